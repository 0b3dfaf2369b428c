"""How fast are the FHIR Patient read and Observation search in a database of a million patients?

Times, through Django's test client (the whole stack: middleware, bearer-key authentication, the
access policy, queries, R4B validation of every resource, the audit write, JSON):
- GET /fhir/Patient/<id> for patients of one practice (a different patient each request);
- GET /fhir/Observation?patient=<id>&code=<BMI>&date=ge… (one patient's BMI readings);
- GET /fhir/Observation?code=<BMI>&date=ge…&_count=20 (the first page across the practice), and
  the same counting every match (`_total=accurate`; not counted by default across a practice);
and, as the baseline in the same run, GET /fhir/metadata (same middleware and JSON, no patient
data). Prints p50/p95, sequential throughput (requests per second) and ratios to the baseline.

The database is the one `bench/recall_bench.py` builds (bench/out/<engine>/, or the PostgreSQL
database `concerto_bench`): 909,091 patients, the most the 999 NHS-number range allows, ~10,000
per practice. The first run of either bench synthesises and loads it (minutes); later runs reuse it.
`--out DIR` keeps a separate database, e.g. for a quick small run:
`python bench/api_bench.py --patients 20000 --out bench/out/api-small`.

Run: `python bench/api_bench.py [--patients N] [--requests R] [--engine sqlite|postgres|both] [--out DIR]`
(default engines: SQLite, plus PostgreSQL when DATABASE_URL is set). Each request writes an audit
record, as in production. A bench API client (a GP at the practice) is added on each run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import recall_bench as base  # the shared database builder and timing helpers

BMI = "60621009"
SINCE = base.AS_OF - dt.timedelta(days=5 * 365)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default=None)
    parser.add_argument("--out", type=Path, default=None, help="database folder (default: the recall bench's)")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per timed series")
    return parser.parse_args()


def run(engine: str, args: argparse.Namespace) -> None:
    if args.out is not None:
        base.OUT = args.out.resolve()
    base.configure(engine)
    import django

    django.setup()
    base.check_database(engine)

    from django.db import connection
    from django.test import Client

    from concerto.api.actions import create_api_client
    from concerto.organisations.models import Organisation
    from concerto.people.models import Patient
    from concerto.records.models import ClinicalEvent

    print(f"=== FHIR API on {connection.vendor} ({connection.settings_dict['NAME']}), code {base.git_version()} ===")
    base.build(args.patients)
    print(f"Planner statistics: {base.planner_statistics(True)}")
    practice = Organisation.objects.get(code=base.PRACTICE)
    issued = create_api_client(name="api bench", organisation=practice, role="gp", by=None)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issued.key}"}
    patients = list(
        Patient.objects.filter(registrations__practice=practice, registrations__end__isnull=True)
        .order_by("pk")
        .values_list("public_id", flat=True)[: args.requests * 2]
    )
    with_bmi = list(
        ClinicalEvent.objects.filter(code=BMI, patient__registrations__practice=practice, date__gte=SINCE)
        .values_list("patient__public_id", flat=True)
        .distinct()[: args.requests * 2]
    )
    if not patients or not with_bmi:
        raise SystemExit(f"no patients (or no BMI readings) at {practice.code}: was the population loaded?")
    print(
        f"Database: {Patient.objects.count():,} patients; sampling {len(patients):,} patients of {practice.code} "
        f"and {len(with_bmi):,} with a BMI since {SINCE}"
    )
    client = Client()

    def cycling(ids):
        position = 0

        def next_id():
            nonlocal position
            position = (position + 1) % len(ids)
            return ids[position]

        return next_id

    next_patient, next_with_bmi = cycling(patients), cycling(with_bmi)

    def get(url: str) -> bytes:
        response = client.get(url, **headers)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}: {response.content[:200]!r}")
        return response.content

    def metadata():
        return get("/fhir/metadata")

    def patient_read():
        return get(f"/fhir/Patient/{next_patient()}")

    def observation_search():
        return get(f"/fhir/Observation?patient={next_with_bmi()}&code={BMI}&date=ge{SINCE}")

    def practice_search():
        return get(f"/fhir/Observation?code={BMI}&date=ge{SINCE}&_count=20")

    def practice_search_counted():
        return get(f"/fhir/Observation?code={BMI}&date=ge{SINCE}&_count=20&_total=accurate")

    results = []
    for label, fn in [
        ("GET /fhir/metadata (baseline)", metadata),
        ("GET /fhir/Patient/<id>", patient_read),
        ("Observation?patient&code&date", observation_search),
        ("Observation?code&date (practice)", practice_search),
        ("  the same, _total=accurate", practice_search_counted),
    ]:
        samples, _ = base.series(fn, args.requests, args.budget)
        results.append((label, samples, base.percentiles(samples)))
    baseline = results[0][2]
    print(f"{'':36}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}{'p95 ratio':>11}  requests")
    for label, samples, (p50, p95) in results:
        throughput = len(samples) / sum(samples)
        print(f"  {label:<34}{p50:9.1f}{p95:9.1f}{throughput:9.1f}{p95 / baseline[1]:10.1f}x  {len(samples):>8}")


def main() -> None:
    args = parse_args()
    engines = {
        "sqlite": ["sqlite"],
        "postgres": ["postgres"],
        "both": ["sqlite", "postgres"],
        None: ["sqlite", "postgres"] if os.environ.get("DATABASE_URL") else ["sqlite"],
    }[args.engine]
    if len(engines) == 1:
        run(engines[0], args)
        return
    failed = False
    for engine in engines:  # one process each: Django's settings are fixed once set up
        command = [sys.executable, __file__, "--engine", engine, "--patients", str(args.patients)]
        command += ["--requests", str(args.requests), "--budget", str(args.budget)]
        command += ["--out", str(args.out)] if args.out else []
        failed |= subprocess.run(command, check=False).returncode != 0  # noqa: S603
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
