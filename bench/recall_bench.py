"""How fast is the recall worklist for one practice of ~10,000 patients in a database of a million?
Goal: p95 under 300 ms for GET /register/recall/, as a practice nurse, on SQLite and PostgreSQL.

Prints p50/p95 over repeated requests through Django's test client (the whole stack: middleware,
session, access policy, query, audit write, template) and, as a ratio, how that compares with a
baseline measured in the same process: the home page `/`, which runs the same middleware and base
template but lists nobody. The worklist selector alone is timed too, so the cost of rendering the
page is visible.

The database is built once and reused: SQLite in bench/out/sqlite/, PostgreSQL in a separate
database `concerto_bench` next to the one DATABASE_URL names (created if missing; the `concerto`
and test databases are never touched). The first run synthesises the population and loads it,
which takes minutes. The synthetic loader needs a valid 999-range NHS number per patient and
there are 909,091 of them, so the database holds at most 909,091 patients; the practice count is
chosen so that each practice still has ~10,000 of them.

Planner statistics: the loader runs ANALYZE after every load (SQLite and PostgreSQL), so by default
the database is measured with statistics, as the application leaves it; `--without-statistics`
drops SQLite's first, to show why the loader does that (minutes per request instead of ms).
When a request is slow, each series stops after about
`--budget` seconds (at least 5 requests), so a slow run still ends.

Run: `python bench/recall_bench.py [--patients N] [--requests R] [--engine sqlite|postgres|both]
[--without-statistics] [--budget S]`
(default engines: SQLite, plus PostgreSQL when DATABASE_URL is set). Each engine runs in its own
process, since Django settings are fixed at start-up. Every request adds an audit record: expected.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BENCH_DB = "concerto_bench"
PROTECTED_DBS = {"concerto", "postgres", "template0", "template1"}
GOAL_MS = 300.0
AS_OF = dt.date(2026, 11, 1)  # the population's reference date; the page is asked for this date
SEED = 20261123
PRACTICE = "Z90001"
ROLE = "practice_nurse"
WARM_UP = 3
MIN_REQUESTS = 5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default=None)
    parser.add_argument(
        "--without-statistics",
        dest="analyze",
        action="store_false",
        help="SQLite: drop planner statistics first (the loader's ANALYZE is what makes the page fast)",
    )
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per timed series (default 300)")
    return parser.parse_args()


def bench_database_url(url: str) -> str:
    """DATABASE_URL with its database name replaced by concerto_bench."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit(f"DATABASE_URL is not PostgreSQL ({parts.scheme}://…): cannot run the PostgreSQL pass")
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def ensure_postgres_database(url: str) -> None:
    """Create concerto_bench if missing, connecting to the maintenance database `postgres`."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone() is None:
            print(f"Creating PostgreSQL database {BENCH_DB}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))


def configure(engine: str) -> None:
    """Environment for Django, set before django.setup()."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "concerto.config.settings"
    os.environ["DEBUG"] = "true"
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"  # the test client's host
    os.environ["CONCERTO_DATA_DIR"] = str(OUT / engine)
    if engine == "sqlite":
        os.environ.pop("DATABASE_URL", None)  # the default file in CONCERTO_DATA_DIR
    else:
        url = bench_database_url(os.environ.get("DATABASE_URL", ""))
        ensure_postgres_database(url)
        os.environ["DATABASE_URL"] = url


def check_database(engine: str) -> None:
    """Refuse to run against anything but the bench database (a stray .env could redirect us)."""
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if engine == "sqlite":
        ok = connection.vendor == "sqlite" and Path(name).resolve().is_relative_to(OUT.resolve())
    else:
        ok = connection.vendor == "postgresql" and name == BENCH_DB and name not in PROTECTED_DBS
    if not ok:
        raise SystemExit(f"refusing to run: the database is {connection.vendor} {name!r}, not the bench database")


def build(patients: int) -> None:
    """Migrate, load code lists and, unless it is already there, synthesise and load the population."""
    import pyarrow.parquet as pq
    from django.core.management import call_command
    from django.db import connection
    from tqdm import tqdm

    from concerto.core.actions import load_codelists
    from concerto.people.models import Patient
    from concerto.synthetic.generator import SynthConfig, generate, valid_999_numbers, write_parquet
    from concerto.synthetic.loader import LOADED_TABLES, load_extract

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    load_codelists()
    print(f"Migrated and loaded code lists in {time.perf_counter() - start:.1f} s")

    loadable = min(patients, len(valid_999_numbers()))
    have = Patient.objects.count()
    if have >= loadable:
        print(f"Reusing the database: {have:,} patients")
        return
    if have:
        where = OUT / "sqlite" if connection.vendor == "sqlite" else f"database {BENCH_DB}"
        raise SystemExit(
            f"The database holds {have:,} patients from an earlier, smaller build; loading {loadable:,} would "
            f"clash with them. Delete {where} and run again."
        )

    practices = max(1, loadable // 10_000)  # ~10,000 loaded patients a practice
    config = SynthConfig(patients=patients, practices=practices, seed=SEED, as_of=AS_OF)
    folder = OUT / f"extract-{patients}"
    done = folder / ".complete"
    if done.exists():
        print(f"Reusing the extract in {folder}")
    else:
        print(f"Synthesising {patients:,} patients in {practices} practices (as of {AS_OF})")
        start = time.perf_counter()
        tables = generate(config, lambda stage: print(f"  {time.perf_counter() - start:6.1f} s  {stage}"))
        write_parquet(tables, folder)
        done.touch()
        del tables
        print(f"Synthesised and wrote {folder} in {time.perf_counter() - start:.1f} s")

    total = sum(pq.ParquetFile(folder / f"{name}.parquet").metadata.num_rows for name in LOADED_TABLES)
    print(f"Loading {total:,} rows into {connection.vendor} (one transaction)")
    start = time.perf_counter()
    with tqdm(total=total, desc="Loading", unit="row", unit_scale=True, mininterval=5) as bar:
        summary = load_extract(folder, advance=bar.update)
        bar.total = bar.n  # rows of patients skipped for want of an NHS number never advance it
    loaded = time.perf_counter() - start
    rows = summary.patients + summary.registrations + summary.clinical_events + summary.medications
    print(
        f"Loaded {summary.patients:,} patients, {summary.registrations:,} registrations, "
        f"{summary.clinical_events:,} clinical events, {summary.medications:,} medication issues "
        f"in {loaded:.0f} s ({rows / loaded:,.0f} rows/s); skipped {summary.patients_without_nhs_number:,} "
        "patients with no NHS number"
    )
    if connection.vendor == "postgresql":
        # Autovacuum would analyse the new tables soon anyway; do it now so plans are stable.
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"ANALYZE in {time.perf_counter() - start:.1f} s")


def planner_statistics(analyze: bool) -> str:
    """SQLite: run ANALYZE, or drop any statistics so the database is as the loader left it."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return "ANALYZEd after loading"
    with connection.cursor() as cursor:
        if analyze:
            start = time.perf_counter()
            cursor.execute("ANALYZE")
            connection.close()  # reopen, so the new statistics are read
            return f"ANALYZE run now ({time.perf_counter() - start:.1f} s)"
        cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'sqlite_stat%'")
        for (table,) in cursor.fetchall():
            cursor.execute(f'DROP TABLE "{table}"')
    connection.close()  # reopen, so no statistics linger in the connection
    return "dropped (--without-statistics)"


def git_version() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)  # noqa: S607
        dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True)  # noqa: S607
    except OSError:
        return "unknown"
    return head.stdout.strip() + (" + uncommitted changes in src/" if dirty.stdout.strip() else "")


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds (inclusive method: p95 of 50 samples lies between the 47th and 48th)."""
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples) * 1000, cuts[18] * 1000


def once(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def series(fn, requests: int, budget: float, warm_up: int = WARM_UP) -> tuple[list[float], object]:
    """Warm up (`warm_up` calls, or just one if a call takes over 5 s), then time up to `requests`
    calls, stopping once `budget` seconds are spent and at least MIN_REQUESTS calls are timed."""
    result = None
    for _ in range(warm_up):
        took, result = once(fn)
        if took > 5:
            break
    samples: list[float] = []
    while len(samples) < requests and (len(samples) < MIN_REQUESTS or sum(samples) < budget):
        samples.append(once(fn)[0])
    return samples, result


def run(engine: str, patients: int, requests: int, analyze: bool, budget: float) -> None:
    configure(engine)
    import django

    django.setup()
    check_database(engine)

    from django.db import connection, reset_queries
    from django.test import Client

    from concerto.access.middleware import SESSION_KEY
    from concerto.access.models import Membership
    from concerto.people.models import Patient, Registration
    from concerto.register import selectors

    print(f"=== {connection.vendor} ({connection.settings_dict['NAME']}), code {git_version()} ===")
    build(patients)
    print(f"Planner statistics: {planner_statistics(analyze)}")

    membership = (
        Membership.objects.select_related("user", "organisation")
        .filter(organisation__code=PRACTICE, role=ROLE)
        .order_by("user__username")
        .first()
    )
    if membership is None:
        raise SystemExit(f"no {ROLE} membership at {PRACTICE}: was the population loaded?")
    practice = membership.organisation
    registered = Registration.objects.filter(practice=practice, end__isnull=True).count()
    print(
        f"Database: {Patient.objects.count():,} patients. Practice {practice.code} ({practice.name}): "
        f"{registered:,} currently registered. Acting as {membership.user.username} ({membership.role})."
    )

    client = Client()
    client.force_login(membership.user)
    session = client.session
    session[SESSION_KEY] = membership.pk
    session.save()

    recall_url = f"/register/recall/?on={AS_OF.isoformat()}"

    def get(url: str) -> str:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
        return response.content.decode()

    def recall() -> str:
        return get(recall_url)

    def home() -> str:
        return get("/")

    def selector() -> list[dict]:
        return selectors.worklist(by=membership, on=AS_OF, practice_ids=[practice.pk])

    reset_queries()
    first, page = once(recall)  # the first warm-up request
    queries = len(connection.queries)  # DEBUG is on, so Django counts them
    found = re.search(r'data-testid="recall-count">(\d+) (?:person|people)', page)
    listed = int(found.group(1)) if found else 0
    if listed == 0:
        raise SystemExit("the recall page lists nobody: expected people due a check")

    recall_s, _ = series(recall, requests, budget, warm_up=0 if first > 5 else WARM_UP - 1)
    home_s, _ = series(home, requests, budget)
    selector_s, rows = series(selector, requests, budget)
    if len(rows) != listed:
        raise SystemExit(f"the page lists {listed} people and the selector {len(rows)}: expected the same")
    recall_ms, home_ms, selector_ms = percentiles(recall_s), percentiles(home_s), percentiles(selector_s)

    print(
        f"Recall worklist {recall_url}: {listed:,} people listed, {queries} queries, "
        f"{len(page) / 1e3:,.0f} kB; first (cold) request {first * 1000:,.0f} ms"
    )
    print(f"{'':32}{'p50 ms':>9}{'p95 ms':>9}  requests")
    for label, samples, (p50, p95) in [
        ("GET recall page", recall_s, recall_ms),
        ("worklist selector alone", selector_s, selector_ms),
        ("GET / (baseline, no list)", home_s, home_ms),
    ]:
        capped = f" (budget reached; asked for {requests})" if len(samples) < requests else ""
        print(f"  {label:<30}{p50:9.1f}{p95:9.1f}  {len(samples):>8}{capped}")
    print(
        f"ratio recall/baseline: p50 {recall_ms[0] / home_ms[0]:.1f}x, p95 {recall_ms[1] / home_ms[1]:.1f}x; "
        f"selector share of the page p50 {selector_ms[0] / recall_ms[0]:.0%}"
    )
    met = recall_ms[1] < GOAL_MS
    print(f"goal p95 < {GOAL_MS:.0f} ms on {connection.vendor}: {'met' if met else 'NOT MET'} ({recall_ms[1]:.0f} ms)")


def main() -> None:
    args = parse_args()
    engines = {
        "sqlite": ["sqlite"],
        "postgres": ["postgres"],
        "both": ["sqlite", "postgres"],
        None: ["sqlite", "postgres"] if os.environ.get("DATABASE_URL") else ["sqlite"],
    }[args.engine]
    if len(engines) == 1:
        run(engines[0], args.patients, args.requests, args.analyze, args.budget)
        return
    failed = False
    for engine in engines:  # one process each: Django's settings are fixed once set up
        command = [sys.executable, __file__, "--engine", engine]
        command += ["--patients", str(args.patients), "--requests", str(args.requests), "--budget", str(args.budget)]
        command += [] if args.analyze else ["--without-statistics"]
        failed |= subprocess.run(command, check=False).returncode != 0  # noqa: S603
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
