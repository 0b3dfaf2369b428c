"""Database expressions for the SMI register and the physical health check.

Everything here builds Django expressions, so the register, each patient's check status, the
recall worklist and the indicators are computed by the database (SQLite or PostgreSQL), never
by looping over patients in Python. Each expression is a correlated subquery on one patient's
coded events, which the (patient, date) indexes answer quickly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from concerto.core import clock, codelists
from concerto.people.models import Patient, Registration
from concerto.records.models import ClinicalEvent, MedicationIssue
from concerto.register.models import FollowUp
from concerto.register.rules import Rules

ANTIPSYCHOTIC_LISTS = (
    "antipsychotics_first_gen_oral_dmd",
    "antipsychotics_second_gen_oral_dmd",
    "antipsychotics_depot_lai_dmd",
)


def _codes(name: str, *clusters: str) -> list[str]:
    cl = codelists.get(name)
    if not clusters:
        return sorted(cl.code_set)
    return sorted({c.code for cluster in clusters for c in cl.cluster(cluster)})


@dataclass(frozen=True)
class Codes:
    """The code sets the register rules use, read once from the shipped code lists."""

    @cached_property
    def remission(self) -> list[str]:
        return _codes("smi_mhrem_cod_pcd2025")

    @cached_property
    def diagnosis(self) -> list[str]:
        # MH_COD includes the remission codes; a diagnosis is MH_COD without them.
        return sorted(set(_codes("smi_mh_cod_pcd2025")) - set(self.remission))

    @cached_property
    def any_mh(self) -> list[str]:
        return _codes("smi_mh_cod_pcd2025")

    @cached_property
    def lithium(self) -> list[str]:
        return _codes("lithium_dmd_gmsde")

    @cached_property
    def lithium_stopped(self) -> list[str]:
        return _codes("smi_review_careplan_exceptions_pcd2025", "LITSTP_COD")

    @cached_property
    def antipsychotic(self) -> list[str]:
        return sorted({c for name in ANTIPSYCHOTIC_LISTS for c in _codes(name)})

    @cached_property
    def care_plan(self) -> list[str]:
        return _codes("smi_review_careplan_exceptions_pcd2025", "MHP_COD")

    @cached_property
    def invitation(self) -> list[str]:
        return _codes("smi_review_careplan_exceptions_pcd2025", "MHINVITE_COD")

    @cached_property
    def dissent(self) -> list[str]:
        return _codes("smi_review_careplan_exceptions_pcd2025", "MHPCADEC_COD")

    @cached_property
    def unsuitable(self) -> list[str]:
        return _codes("smi_review_careplan_exceptions_pcd2025", "MHPCAPU_COD")


CODES = Codes()


def latest(
    codes: Iterable[str],
    *,
    on: dt.date,
    after: dt.date | None = None,
    field: str = "date",
    model=ClinicalEvent,
) -> Subquery:
    """The `field` of a patient's latest event with one of `codes` on or before `on` (and after
    `after`, exclusive). Ties on a date go to the most recently recorded row."""
    rows = model.objects.filter(patient=OuterRef("pk"), code__in=list(codes), date__lte=on)
    if after is not None:
        rows = rows.filter(date__gt=after)
    output = DateField() if field == "date" else None
    return Subquery(rows.order_by("-date", "-id").values(field)[:1], output_field=output)


def earliest(codes: Iterable[str], *, on: dt.date) -> Subquery:
    rows = ClinicalEvent.objects.filter(patient=OuterRef("pk"), code__in=list(codes), date__lte=on)
    return Subquery(rows.order_by("date", "id").values("date")[:1], output_field=DateField())


def registered_on(on: dt.date, practices: Iterable[int] | None = None) -> Exists:
    regs = Registration.objects.filter(patient=OuterRef("pk"), start__lte=on).filter(
        Q(end__isnull=True) | Q(end__gte=on)
    )
    if practices is not None:
        regs = regs.filter(practice_id__in=list(practices))
    return Exists(regs)


def register(patients: QuerySet[Patient], *, on: dt.date, practices: Iterable[int] | None = None):
    """The SMI register on `on` (QOF rule), within `patients`, annotated with why each is on it.

    On the register: alive and registered on `on`, and either (a) their latest SMI diagnosis
    (MH_COD less the remission codes) is not followed by a remission code (MHREM_COD) — a
    remission on the same day as the diagnosis does not remove them — or (b) lithium was issued
    in the 6 months up to `on` and no "lithium stopped" code follows the latest issue.
    """
    six_months_ago = clock.months_before(on, 6)
    diagnosed = ClinicalEvent.objects.filter(code__in=CODES.diagnosis, date__lte=on)
    on_lithium = MedicationIssue.objects.filter(code__in=CODES.lithium, date__lte=on, date__gt=six_months_ago)
    if practices is not None:
        practices = list(practices)
        diagnosed = diagnosed.filter(patient__registrations__practice_id__in=practices)
        on_lithium = on_lithium.filter(patient__registrations__practice_id__in=practices)
    # Candidate ids first, from the code indexes: the register then checks access, registration
    # and remission for these few patients instead of every patient in the database.
    candidate_ids = set(diagnosed.values_list("patient_id", flat=True)) | set(
        on_lithium.values_list("patient_id", flat=True)
    )
    candidates = Q(pk__in=sorted(candidate_ids))
    return _with_register_columns(
        patients.filter(candidates)
        .filter(registered_on(on, practices))
        .filter(Q(date_of_death__isnull=True) | Q(date_of_death__gt=on)),
        on=on,
    ).filter(ON_DIAGNOSIS | ON_LITHIUM)


ON_DIAGNOSIS = Q(diagnosed__isnull=False) & (Q(remission__isnull=True) | Q(remission__lte=F("diagnosed")))
ON_LITHIUM = Q(lithium__isnull=False) & (Q(lithium_stopped__isnull=True) | Q(lithium_stopped__lt=F("lithium")))


def _with_register_columns(patients: QuerySet[Patient], *, on: dt.date):
    """Why each patient is (or is not) on the register on `on`, and where they are registered."""
    six_months_ago = clock.months_before(on, 6)
    return patients.annotate(
        diagnosed=latest(CODES.diagnosis, on=on),
        first_diagnosed=earliest(CODES.diagnosis, on=on),
        remission=latest(CODES.remission, on=on),
        lithium=latest(CODES.lithium, on=on, after=six_months_ago, model=MedicationIssue),
        lithium_stopped=latest(CODES.lithium_stopped, on=on),
    ).annotate(
        by_diagnosis=ExpressionWrapper(ON_DIAGNOSIS, output_field=BooleanField()),
        practice_name=Subquery(
            Registration.objects.filter(patient=OuterRef("pk"), start__lte=on)
            .filter(Q(end__isnull=True) | Q(end__gte=on))
            .order_by("-start")
            .values("practice__name")[:1]
        ),
    )


def _driven_by_ids(qs, *, on: dt.date):
    """The same patients, as `pk IN (their ids)` with the register's columns recomputed.

    Two steps on purpose: finding who is on the register combines access, registration and
    diagnosis conditions that PostgreSQL can only answer by scanning every patient when they are
    nested under the check's forty-odd subqueries; answered alone it is quick, and the check then
    starts from a few dozen (or a few thousand) known ids. (Measured: bench/recall_bench.py.)
    """
    ids = list(qs.values_list("pk", flat=True))
    return _with_register_columns(Patient.objects.filter(pk__in=ids), on=on)


class Status:
    NEVER = "never"
    OVERDUE = "overdue"
    FOLLOW_UP = "follow_up"
    DUE_SOON = "due_soon"
    COMPLETE = "complete"
    EXCLUDED = "excluded"

    LABELS = {
        NEVER: "Never checked",
        OVERDUE: "Overdue",
        FOLLOW_UP: "Follow-up due",
        DUE_SOON: "Due soon",
        COMPLETE: "Complete",
        EXCLUDED: "Excluded",
    }
    # Recall priority: never checked first, then overdue (longest since last first), then people
    # with an abnormal result and no follow-up yet, then those coming due.
    PRIORITY = {NEVER: 1, OVERDUE: 2, FOLLOW_UP: 3, DUE_SOON: 4, COMPLETE: 5, EXCLUDED: 6}
    ON_WORKLIST = (NEVER, OVERDUE, FOLLOW_UP, DUE_SOON)


def _check_columns(qs, *, on: dt.date, rules: Rules):
    """Each patient's raw check data on `on`, one correlated subquery per column (no column
    refers to another, so the database evaluates each subquery once per patient)."""
    start = clock.months_before(on, rules.window_months)
    columns: dict = {}
    for e in rules.elements:
        columns[f"{e.key}_date"] = latest(e.recorded, on=on, after=start)
        if e.declined:
            columns[f"{e.key}_declined"] = latest(e.declined, on=on, after=start)
        if e.unsuitable:
            columns[f"{e.key}_unsuitable"] = latest(e.unsuitable, on=on, after=start)
    for f in rules.flags:
        # A status flag looks at the element's latest code (e.g. the latest smoking status);
        # a value flag at the latest value of its value-bearing codes.
        codes = rules.element(f.element).recorded if f.is_status else f.value_codes
        columns[f"{f.key}_value"] = latest(codes, on=on, after=start, field="code" if f.is_status else "value")
        columns[f"{f.key}_at"] = latest(codes, on=on, after=start)
    lipids = rules.element("lipids").recorded if any(e.key == "lipids" for e in rules.elements) else []
    invites = ClinicalEvent.objects.filter(
        patient=OuterRef("pk"), code__in=CODES.invitation, date__lte=on, date__gt=start
    )
    columns |= {
        "last_check": latest(rules.all_recorded_codes, on=on),
        "excluded_on": latest(CODES.dissent + CODES.unsuitable, on=on, after=start),
        "care_plan_date": latest(CODES.care_plan, on=on, after=start),
        "lipids_24_date": latest(lipids, on=on, after=clock.months_before(on, 24)),
        "antipsychotic_date": latest(
            CODES.antipsychotic, on=on, after=clock.months_before(on, 6), model=MedicationIssue
        ),
        "invitations_count": Coalesce(
            Subquery(invites.values("patient").annotate(n=Count("id")).values("n")[:1]), Value(0)
        ),
        "first_invited": Subquery(invites.order_by("date").values("date")[:1], output_field=DateField()),
        "last_invited": Subquery(invites.order_by("-date").values("date")[:1], output_field=DateField()),
        **(
            {"cvd": latest(codelists.get("cvd_conditions").code_set, on=on)}
            if "cvd_conditions" in codelists.all_codelists()
            else {}
        ),
        "registered_since": Subquery(
            Registration.objects.filter(patient=OuterRef("pk"), start__lte=on)
            .filter(Q(end__isnull=True) | Q(end__gte=on))
            .order_by("-start")
            .values("start")[:1],
            output_field=DateField(),
        ),
    }
    return qs.annotate(**columns).values(
        "id",
        "public_id",
        "nhs_number",
        "given_name",
        "family_name",
        "date_of_birth",
        "ethnicity",
        "practice_name",
        "by_diagnosis",
        "diagnosed",
        "first_diagnosed",
        "lithium",
        *columns,
    )


class CheckSQL:
    """SQL over the raw check columns: flags, all six, follow-up due, status and priority.

    Written as SQL text around the ORM's subquery (`SELECT … FROM (<columns>) hc`) so that the
    derived columns refer to computed columns instead of repeating their subqueries. Identifiers
    come from the rules file's keys (checked to be plain words); values are query parameters.
    """

    def __init__(self, *, on: dt.date, rules: Rules, vendor: str):
        for key in [e.key for e in rules.elements] + [f.key for f in rules.flags]:
            if not key.replace("_", "").isalnum() or not key.isascii():
                raise ValueError(f"rule key {key!r} must be a plain word")
        self.on, self.rules, self.vendor = on, rules, vendor
        self.start = clock.months_before(on, rules.window_months)

    def level1(self) -> tuple[list[str], list]:
        """Expressions over hc's columns, with their parameters."""
        exprs: list[str] = []
        params: list[object] = []
        for f in self.rules.flags:
            if f.is_status:
                marks = ", ".join(["%s"] * len(f.status_codes))
                abnormal = f"hc.{f.key}_value IN ({marks})"
                params += sorted(f.status_codes)
            elif f.at_least is not None:
                abnormal = f"hc.{f.key}_value >= %s"
                params.append(f.at_least)
            else:
                abnormal = f"hc.{f.key}_value > %s"
                params.append(f.above)
            exprs.append(f"CASE WHEN {abnormal} THEN 1 ELSE 0 END AS {f.key}_abnormal")
            # Followed up: a follow-up recorded, or a code that is itself the intervention (e.g. an
            # alcohol referral), on or after the result and no later than the reporting date.
            coded = ""
            if f.cleared_by:
                marks = ", ".join(["%s"] * len(f.cleared_by))
                coded = (
                    f" OR EXISTS (SELECT 1 FROM {ClinicalEvent._meta.db_table} ce WHERE ce.patient_id = hc.id "
                    f"AND ce.code IN ({marks}) AND ce.date >= hc.{f.key}_at AND ce.date <= %s)"
                )
            exprs.append(
                f"CASE WHEN EXISTS (SELECT 1 FROM {FollowUp._meta.db_table} fu WHERE fu.patient_id = hc.id "
                f"AND fu.kind = %s AND fu.date >= hc.{f.key}_at AND fu.date <= %s){coded} "
                f"THEN 1 ELSE 0 END AS {f.key}_followed_up"
            )
            params += [f.intervention, self.on]
            if f.cleared_by:
                params += [*sorted(f.cleared_by), self.on]
        all_six = " AND ".join(f"hc.{e.key}_date IS NOT NULL" for e in self.rules.elements)
        least = "LEAST" if self.vendor == "postgresql" else "MIN"
        dates = ", ".join(f"hc.{e.key}_date" for e in self.rules.elements)
        exprs.append(f"CASE WHEN {all_six} THEN 1 ELSE 0 END AS all_six")
        # A boolean on PostgreSQL, 0/1 on SQLite: one integer form for conditions over the rows.
        exprs.append("CASE WHEN hc.by_diagnosis THEN 1 ELSE 0 END AS diagnosis_based")
        # QOF personalised care adjustments that need date arithmetic (which differs by database).
        gap = (
            "hc.last_invited - hc.first_invited"
            if self.vendor == "postgresql"
            else "julianday(hc.last_invited) - julianday(hc.first_invited)"
        )
        exprs.append(f"CASE WHEN hc.invitations_count >= 2 AND {gap} >= 7 THEN 1 ELSE 0 END AS invited_twice")
        exprs.append(
            "CASE WHEN hc.first_diagnosed > %s OR hc.registered_since > %s THEN 1 ELSE 0 END AS recently_joined"
        )
        three_months_ago = clock.months_before(self.on, 3)
        params += [three_months_ago, three_months_ago]
        # LEAST ignores NULLs on PostgreSQL, MIN(a, b) does not on SQLite: only use it when all exist.
        exprs.append(f"CASE WHEN {all_six} THEN {least}({dates}) END AS oldest_element")
        return exprs, params

    def level2(self) -> tuple[list[str], list]:
        flags = self.rules.flags
        due = " OR ".join(f"(l1.{f.key}_abnormal = 1 AND l1.{f.key}_followed_up = 0)" for f in flags) or "1 = 0"
        due_soon_from = self.start + dt.timedelta(days=self.rules.due_soon_days)
        status = (
            # A care adjustment excludes from recall, never from following up an abnormal result.
            f"CASE WHEN l1.excluded_on IS NOT NULL AND ({due}) THEN %s "
            "WHEN l1.excluded_on IS NOT NULL THEN %s "
            "WHEN l1.last_check IS NULL THEN %s "
            "WHEN l1.all_six = 0 THEN %s "
            f"WHEN {due} THEN %s "
            "WHEN l1.oldest_element <= %s THEN %s "
            "ELSE %s END"
        )
        params = [
            Status.FOLLOW_UP,
            Status.EXCLUDED,
            Status.NEVER,
            Status.OVERDUE,
            Status.FOLLOW_UP,
            due_soon_from,
            Status.DUE_SOON,
            Status.COMPLETE,
        ]
        return [
            f"CASE WHEN {due} THEN 1 ELSE 0 END AS follow_up_due",
            f"{status} AS status",
        ], params

    def with_clause(self, inner_sql: str, inner_params) -> tuple[str, list]:
        """`WITH … rows AS (…)`: the check rows as a named table for the caller's SELECT.

        `hc` is MATERIALIZED so the database computes each patient's subqueries once; otherwise
        SQLite flattens the nesting and repeats a subquery wherever its column is used.
        """
        e1, p1 = self.level1()
        e2, p2 = self.level2()
        priority = " ".join(f"WHEN l2.status = %s THEN {p}" for p in Status.PRIORITY.values())
        sql = (
            f"WITH hc AS MATERIALIZED ({inner_sql}), "
            f"l1 AS (SELECT hc.*, {', '.join(e1)} FROM hc), "
            f"l2 AS (SELECT l1.*, {', '.join(e2)} FROM l1), "
            f"rows AS (SELECT l2.*, CASE {priority} END AS priority FROM l2) "
        )
        return sql, [*inner_params, *p1, *p2, *Status.PRIORITY]


def _run(sql: str, params) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _as_date(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])  # SQLite returns dates as text


def _tidy(row: dict) -> dict:
    """Dates as dates, flags as booleans and ids as UUIDs, whichever database answered."""
    for key, value in row.items():
        if key.endswith("_value") and isinstance(value, (int, float)):
            row[key] = Decimal(str(value))  # SQLite returns numeric values as floats
        elif key == "public_id":
            row[key] = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        elif key.endswith(("_date", "_at", "_declined", "_unsuitable", "_on", "_invited", "_since")) or key in {
            "last_check",
            "diagnosed",
            "first_diagnosed",
            "lithium",
            "date_of_birth",
            "oldest_element",
            "cvd",
        }:
            row[key] = _as_date(value)
        elif key.endswith(("_abnormal", "_followed_up")) or key in {
            "all_six",
            "follow_up_due",
            "by_diagnosis",
            "invited_twice",
            "recently_joined",
        }:
            row[key] = bool(value)
    return row


def check_rows(
    qs, *, on: dt.date, rules: Rules, statuses: Iterable[str] | None = None, order: str = "priority"
) -> list[dict]:
    """Each patient in `qs` (a register queryset) with their check status on `on`, as dicts,
    filtered to `statuses` and ordered by recall priority (or `name`, `last_check`)."""
    inner_sql, inner_params = _check_columns(_driven_by_ids(qs, on=on), on=on, rules=rules).query.sql_with_params()
    sql, params = CheckSQL(on=on, rules=rules, vendor=connection.vendor).with_clause(inner_sql, inner_params)
    outer = f"{sql} SELECT * FROM rows"
    if statuses is not None:
        statuses = list(statuses)
        outer += f" WHERE rows.status IN ({', '.join(['%s'] * len(statuses))})" if statuses else " WHERE 1 = 0"
        params = [*params, *statuses]
    orders = {
        # Longest since the last check first; "never" sorts first within its group anyway.
        "priority": "rows.priority, (rows.last_check IS NOT NULL), rows.last_check, rows.family_name, rows.id",
        "name": "rows.family_name, rows.given_name, rows.id",
        "last_check": "(rows.last_check IS NOT NULL), rows.last_check, rows.family_name, rows.id",
    }
    outer += f" ORDER BY {orders[order]}"
    rows = [_tidy(row) for row in _run(outer, params)]
    for row in rows:
        row["status_label"] = Status.LABELS[row["status"]]
    return rows


def aggregate(qs, *, on: dt.date, rules: Rules, measures: dict[str, tuple[str, list]]) -> dict:
    """Sums of SQL conditions over the check rows, computed by the database in one query.

    `measures` maps a name to (SQL condition over the row's columns, parameters)."""
    inner_sql, inner_params = _check_columns(_driven_by_ids(qs, on=on), on=on, rules=rules).query.sql_with_params()
    sql, params = CheckSQL(on=on, rules=rules, vendor=connection.vendor).with_clause(inner_sql, inner_params)
    sums, sum_params = [], []
    for name, (condition, cond_params) in measures.items():
        if not (name.replace("_", "").isalnum() and name.islower()):
            # Lower case: PostgreSQL folds unquoted aliases, SQLite keeps them.
            raise ValueError(f"measure name {name!r} must be a plain lower-case word")
        sums.append(f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS {name}")
        sum_params += cond_params
    result = _run(f"{sql} SELECT COUNT(*) AS total, {', '.join(sums)} FROM rows", [*params, *sum_params])[0]
    return {k: int(v or 0) for k, v in result.items()}
