"""Load an extract (Parquet, the extract schema) into the operational database with bulk inserts.

This is the feed path (a GP system or the synthetic generator supplying a population), so it
writes rows in bulk rather than one action per row; it still runs in one transaction (all or
nothing) and writes one audit record saying what was loaded. On PostgreSQL it uses COPY.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from django.core.management.color import no_style
from django.db import connection, transaction

from concerto.access import audit
from concerto.access.actions import add_membership
from concerto.access.models import AuditAction
from concerto.core import nhs_number
from concerto.core.errors import InvalidInput
from concerto.organisations.actions import create_organisation
from concerto.organisations.models import Organisation
from concerto.people.actions import create_staff_user
from concerto.people.models import Patient, Registration, User
from concerto.records.models import ClinicalEvent, MedicationIssue

Advance = Callable[[int], None]
# Tables loaded row by row (progress counts their rows); organisations are loaded first, by code.
LOADED_TABLES = ("patients", "registrations", "clinical_events", "medications")


@dataclass
class LoadSummary:
    organisations: int = 0
    staff: int = 0
    patients: int = 0
    patients_without_nhs_number: int = 0
    registrations: int = 0
    clinical_events: int = 0
    medications: int = 0


def _insert(table: str, columns: Sequence[str], rows: Iterable[tuple], advance: Advance, batch: int = 20_000) -> int:
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Table and column names come from model metadata, never from input.
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
                    if count % batch == 0:
                        advance(batch)
            advance(count % batch)
            return count
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608
        chunk: list[tuple] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == batch:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                advance(len(chunk))
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
            advance(len(chunk))
    return count


def _organisations(directory: Path) -> tuple[dict[str, int], int]:
    rows = pq.read_table(directory / "organisations.parquet").to_pylist()
    existing = {o.code: o for o in Organisation.objects.all()}
    created = 0
    pending = [r for r in rows if r["code"] not in existing]
    # Parents first: keep passing over the rows until each one's parent exists.
    while pending:
        progressed = []
        for r in pending:
            parent = existing.get(r["parent_code"]) if r["parent_code"] else None
            if r["parent_code"] and parent is None:
                continue
            existing[r["code"]] = create_organisation(
                code=r["code"],
                name=r["name"],
                kind=r["kind"],
                team_type=r["team_type"] or "",
                parent=parent,
                aligned_pcn=existing.get(r["aligned_pcn_code"] or ""),
                postcode=r["postcode"] or "",
            )
            created += 1
            progressed.append(r["code"])
        if not progressed:
            missing = sorted({r["parent_code"] for r in pending})
            raise InvalidInput(f"organisations.parquet: unknown parent codes {', '.join(missing)}")
        pending = [r for r in pending if r["code"] not in progressed]
    return {code: org.pk for code, org in existing.items()}, created


def _staff(directory: Path) -> int:
    """Staff users (who cannot log in until given a password) and their memberships."""
    path = directory / "staff.parquet"
    if not path.exists():  # staff are optional: a GP feed has none
        return 0
    organisations = {o.code: o for o in Organisation.objects.all()}
    existing = set(User.objects.values_list("username", flat=True))
    created = 0
    for row in pq.read_table(path).to_pylist():
        if row["username"] in existing:
            continue
        user = create_staff_user(
            username=row["username"],
            password=None,
            first_name=row["given_name"],
            last_name=row["family_name"],
        )
        add_membership(user=user, organisation=organisations[row["organisation_code"]], role=row["role"], by=None)
        created += 1
    return created


@transaction.atomic
def load_extract(directory: Path, *, advance: Advance | None = None) -> LoadSummary:
    """Load every table of the extract in `directory`. Refuses (changing nothing) if any of its
    NHS numbers is already in the database, so running it twice cannot duplicate anyone."""
    advance = advance or (lambda _n: None)
    for name in ("organisations", *LOADED_TABLES):
        if not (directory / f"{name}.parquet").exists():
            raise InvalidInput(f"{directory} has no {name}.parquet: is it an extract?")
    summary = LoadSummary()
    org_id, summary.organisations = _organisations(directory)
    summary.staff = _staff(directory)

    patients = pq.read_table(directory / "patients.parquet")
    nhs = patients.column("nhs_number").to_pylist()
    loadable = [i for i, number in enumerate(nhs) if number is not None]
    summary.patients_without_nhs_number = len(nhs) - len(loadable)
    numbers = [nhs[i] for i in loadable]
    invalid = sum(not nhs_number.is_valid(n) for n in numbers)
    if invalid:
        raise InvalidInput(f"{invalid:,} NHS numbers fail the modulus-11 check. Nothing was loaded.")
    clashes = sum(
        Patient.objects.filter(nhs_number__in=numbers[start : start + 5_000]).count()
        for start in range(0, len(numbers), 5_000)
    )
    if clashes:
        # A count, never the numbers themselves: this message reaches terminals and logs.
        raise InvalidInput(
            f"{clashes:,} of this extract's patients are already in the database: it (or one "
            "overlapping it) has been loaded before. Nothing was loaded."
        )
    if connection.vendor == "postgresql":
        # Nobody else may take ids in the range we are about to write until the sequence is reset.
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Patient._meta.db_table} IN EXCLUSIVE MODE")
    offset = Patient.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    cols = {name: patients.column(name).to_pylist() for name in patients.column_names}
    public_id = Patient._meta.get_field("public_id")

    def new_public_id():
        # Random, not derived from the NHS number: a URL must not reveal whom it is about.
        return public_id.get_db_prep_value(uuid.uuid4(), connection)

    contact: dict[int, tuple[str, str]] = {}
    if (directory / "patient_contacts.parquet").exists():  # optional: direct-care feeds only
        contacts = pq.read_table(directory / "patient_contacts.parquet").to_pydict()
        contact = {
            pid: (phone or "", address or "")
            for pid, phone, address in zip(
                contacts["patient_id"], contacts["mobile_phone"], contacts["address"], strict=True
            )
        }

    known = {cols["patient_id"][i] for i in loadable}

    summary.patients = _insert(
        Patient._meta.db_table,
        [
            "id",
            "public_id",
            "nhs_number",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "ethnicity",
            "postcode",
            "lsoa",
            "imd_decile",
            "date_of_death",
            "mobile_phone",
            "address",
        ],
        (
            (
                cols["patient_id"][i] + offset,
                new_public_id(),
                nhs[i],
                cols["given_name"][i],
                cols["family_name"][i],
                cols["date_of_birth"][i],
                cols["sex"][i],
                cols["ethnicity"][i],
                cols["postcode"][i] or "",
                cols["lsoa"][i] or "",
                cols["imd_decile"][i],
                cols["date_of_death"][i],
                contact.get(cols["patient_id"][i], ("", ""))[0],
                contact.get(cols["patient_id"][i], ("", ""))[1],
            )
            for i in loadable
        ),
        advance,
    )

    def rows_of(name: str, columns: list[str]):
        table = pq.read_table(directory / f"{name}.parquet", columns=columns)
        data = [table.column(c).to_pylist() for c in columns]
        return ((pid, *rest) for pid, *rest in zip(*data, strict=True) if pid in known)

    summary.registrations = _insert(
        Registration._meta.db_table,
        ["patient_id", "practice_id", "start", '"end"'],
        (
            (pid + offset, org_id[practice], start, end)
            for pid, practice, start, end in rows_of(
                "registrations", ["patient_id", "practice_code", "start_date", "end_date"]
            )
        ),
        advance,
    )
    summary.clinical_events = _insert(
        ClinicalEvent._meta.db_table,
        ["patient_id", "code", "date", "value", "unit", "source_organisation_id"],
        (
            (pid + offset, code, date, value, (unit or "") if value is not None else "", org_id.get(src))
            for pid, code, date, value, unit, src in rows_of(
                "clinical_events", ["patient_id", "code", "date", "value", "unit", "source_org_code"]
            )
        ),
        advance,
    )
    summary.medications = _insert(
        MedicationIssue._meta.db_table,
        ["patient_id", "code", "date", "source_organisation_id"],
        (
            (pid + offset, code, date, org_id.get(src))
            for pid, code, date, src in rows_of("medications", ["patient_id", "code", "date", "source_org_code"])
        ),
        advance,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(
                no_style(), [Patient, Registration, ClinicalEvent, MedicationIssue]
            ):
                cursor.execute(sql)
    # Fresh planner statistics: without them SQLite picks index plans for the register that are
    # orders of magnitude slower on a large population (bench/recall_bench.py).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    audit.record(
        by=None,
        action=AuditAction.CREATE,
        what="bulk_load",
        detail={"source": str(directory), **summary.__dict__},
    )
    return summary
