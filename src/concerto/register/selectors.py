"""Reads for the SMI register, always through the access policy, audited as they are shown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import require_access, visible_patients
from concerto.core import clock
from concerto.organisations.models import Organisation, OrganisationKind
from concerto.people.models import Patient
from concerto.records.models import ClinicalEvent, MedicationIssue
from concerto.referrals.models import Contact, ContactOutcome
from concerto.register import qof, queries
from concerto.register import rules as rules_module
from concerto.register.models import FollowUp, Invitation
from concerto.register.queries import CODES, Status


def practices_in_scope(membership: Membership) -> list[Organisation]:
    """The practices whose register this member works with: their own, their PCN's, or all."""
    org = membership.organisation
    practices = Organisation.objects.filter(kind=OrganisationKind.GP_PRACTICE).order_by("name")
    if org.kind == OrganisationKind.GP_PRACTICE:
        return [org]
    if org.kind == OrganisationKind.PCN:
        return list(practices.filter(parent=org))
    if org.kind == OrganisationKind.MH_TEAM and org.aligned_pcn_id:
        return list(practices.filter(parent_id=org.aligned_pcn_id))
    return list(practices)


def _register(by: Membership, on: dt.date, practice_ids: list[int]) -> QuerySet[Patient]:
    return queries.register(visible_patients(by, Permission.PATIENT_VIEW_CLINICAL), on=on, practices=practice_ids)


def worklist(
    *,
    by: Membership,
    on: dt.date,
    practice_ids: list[int],
    statuses=Status.ON_WORKLIST,
    order: str = "priority",
    what: str = "recall_worklist",
) -> list[dict]:
    """Register patients with their check status, filtered and ordered; one audit record listing
    the patients shown (`what` says which page or export showed them)."""
    rows = queries.check_rows(
        _register(by, on, practice_ids), on=on, rules=rules_module.load(), statuses=statuses, order=order
    )
    audit.record(
        by=by,
        action=AuditAction.VIEW,
        what=what,
        detail={"on": on.isoformat(), "practices": practice_ids, "patient_ids": [r["id"] for r in rows]},
    )
    return rows


@dataclass
class ElementState:
    key: str
    label: str
    date: dt.date | None
    declined: dt.date | None
    unsuitable: dt.date | None
    flags: list[dict] = field(default_factory=list)


@dataclass
class PatientCheck:
    on_register: bool
    row: dict
    elements: list[ElementState]
    follow_ups_due: list[dict]
    follow_ups: list[FollowUp]
    invitations: list[Invitation]

    @property
    def outstanding(self) -> list[str]:
        return [e.label for e in self.elements if e.date is None]

    @property
    def status_label(self) -> str:
        return Status.LABELS[self.row["status"]]


def patient_check(*, by: Membership, patient: Patient, on: dt.date | None = None) -> PatientCheck:
    """One patient's check on `on` (default today) for the physical health panel."""
    require_access(by, patient, Permission.PATIENT_VIEW_CLINICAL, what="physical_health_check")
    on = on or clock.today()
    rules = rules_module.load()
    on_register = queries.register(Patient.objects.filter(pk=patient.pk), on=on)
    # Shown for anyone the member may see, on the register or not (case-finding, new patients).
    rows = queries.check_rows(Patient.objects.filter(pk=patient.pk), on=on, rules=rules)
    row = rows[0]
    elements = []
    for e in rules.elements:
        state = ElementState(
            e.key, e.label, row[f"{e.key}_date"], row.get(f"{e.key}_declined"), row.get(f"{e.key}_unsuitable")
        )
        for f in rules.flags_for(e.key):
            state.flags.append(
                {
                    "label": f.label,
                    "value": row[f"{f.key}_value"],
                    "at": row[f"{f.key}_at"],
                    "abnormal": row[f"{f.key}_abnormal"],
                    "unit": f.unit,
                    "is_status": f.is_status,
                }
            )
        elements.append(state)
    due = [
        {"flag": f.label, "intervention": rules.intervention(f.intervention), "since": row[f"{f.key}_at"]}
        for f in rules.flags
        if row[f"{f.key}_abnormal"] and not row[f"{f.key}_followed_up"]
    ]
    unique_due = list({d["intervention"].key: d for d in due}.values())
    labels = {i.key: i.label for i in rules.interventions}
    follow_ups = list(FollowUp.objects.filter(patient=patient).order_by("-date", "-id")[:10])
    for fu in follow_ups:
        fu.label = labels.get(fu.kind, fu.kind)  # type: ignore[attr-defined]
    return PatientCheck(
        on_register=bool(on_register.exists()),
        row=row,
        elements=elements,
        follow_ups_due=unique_due,
        follow_ups=follow_ups,
        invitations=list(Invitation.objects.filter(patient=patient).order_by("-created_at")[:10]),
    )


def indicator_summary(*, by: Membership, on: dt.date, practice_ids: list[int]) -> dict:
    """Counts and rates for the register's indicators, computed by the database in one query."""
    rules = rules_module.load()
    counts = queries.aggregate(_register(by, on, practice_ids), on=on, rules=rules, measures=qof.measures(rules=rules))
    audit.record(
        by=by, action=AuditAction.VIEW, what="phc_indicators", detail={"on": on.isoformat(), "practices": practice_ids}
    )

    def rate(num: int, den: int) -> float | None:
        return None if den == 0 else round(100 * num / den, 1)

    register = counts["register_diagnosis"]
    return {
        "counts": counts,
        "register": counts["total"],
        "register_diagnosis": register,
        "register_lithium_only": counts["register_lithium_only"],
        "target": rules.target_percent,
        "all_six": {"num": counts["all_six"], "den": register, "rate": rate(counts["all_six"], register)},
        "elements": [
            {
                "label": e.label,
                "num": counts[f"element_{e.key}"],
                "den": register,
                "rate": rate(counts[f"element_{e.key}"], register),
            }
            for e in rules.elements
        ],
        "follow_up": {
            "num": counts["abnormal_followed_up"],
            "den": counts["any_abnormal"],
            "rate": rate(counts["abnormal_followed_up"], counts["any_abnormal"]),
        },
        "flags": [
            {
                "label": f.label,
                "intervention": rules.intervention(f.intervention).label,
                "num": counts[f"flag_{f.key}_followed"],
                "den": counts[f"flag_{f.key}"],
                "rate": rate(counts[f"flag_{f.key}_followed"], counts[f"flag_{f.key}"]),
            }
            for f in rules.flags
        ],
        "qof": [
            {
                "id": d.id,
                "title": d.title,
                "num": counts[f"{d.id.lower()}_num"],
                "den": counts[f"{d.id.lower()}_den"],
                "rate": rate(counts[f"{d.id.lower()}_num"], counts[f"{d.id.lower()}_den"]),
            }
            for d in qof.indicators(rules=rules)
        ],
    }


def case_finding(*, by: Membership, on: dt.date, practice_ids: list[int]) -> dict[str, list[Patient]]:
    """(a) antipsychotics or lithium in the last 12 months with no SMI diagnosis; (b) on the
    register with no coded activity for 12 months or more; (c) remission coded while
    antipsychotics continue (issued after the remission, in the last 6 months)."""
    year_ago = clock.months_before(on, 12)
    six_months_ago = clock.months_before(on, 6)
    base = visible_patients(by, Permission.PATIENT_VIEW_CLINICAL).filter(
        queries.registered_on(on, practice_ids), Q(date_of_death__isnull=True) | Q(date_of_death__gt=on)
    )
    drugs = CODES.antipsychotic + CODES.lithium
    unexplained = (
        base.filter(
            pk__in=MedicationIssue.objects.filter(code__in=drugs, date__gt=year_ago, date__lte=on).values("patient_id")
        )
        .exclude(Exists(ClinicalEvent.objects.filter(patient=OuterRef("pk"), code__in=CODES.any_mh, date__lte=on)))
        .annotate(last_issue=queries.latest(drugs, on=on, model=MedicationIssue))
        .order_by("family_name", "given_name")
    )
    register = queries.register(base, on=on, practices=practice_ids)
    # Activity means care happening: invitations we sent are not activity, attended contacts are.
    activity = ClinicalEvent.objects.filter(patient=OuterRef("pk"), date__gt=year_ago, date__lte=on).exclude(
        code__in=CODES.invitation
    )
    quiet = (
        register.exclude(Exists(activity))
        .exclude(Exists(MedicationIssue.objects.filter(patient=OuterRef("pk"), date__gt=year_ago, date__lte=on)))
        .exclude(
            Exists(
                Contact.objects.filter(
                    episode__patient=OuterRef("pk"), outcome=ContactOutcome.ATTENDED, date__gt=year_ago, date__lte=on
                )
            )
        )
        .annotate(
            last_event=Subquery(
                ClinicalEvent.objects.filter(patient=OuterRef("pk"), date__lte=on)
                .exclude(code__in=CODES.invitation)
                .order_by("-date")
                .values("date")[:1]
            )
        )
        .order_by("family_name", "given_name")
    )
    in_remission = (
        base.filter(pk__in=ClinicalEvent.objects.filter(code__in=CODES.remission, date__lte=on).values("patient_id"))
        .annotate(remission=queries.latest(CODES.remission, on=on), diagnosed=queries.latest(CODES.diagnosis, on=on))
        .filter(Q(diagnosed__isnull=True) | Q(remission__gt=F("diagnosed")))
        .filter(
            Exists(
                MedicationIssue.objects.filter(
                    patient=OuterRef("pk"),
                    code__in=CODES.antipsychotic,
                    date__gt=OuterRef("remission"),
                    date__lte=on,
                ).filter(date__gt=six_months_ago)
            )
        )
        .annotate(last_issue=queries.latest(CODES.antipsychotic, on=on, model=MedicationIssue))
        .order_by("family_name", "given_name")
    )
    found = {"unexplained": list(unexplained), "quiet": list(quiet), "in_remission": list(in_remission)}
    audit.record(
        by=by,
        action=AuditAction.VIEW,
        what="case_finding",
        detail={"on": on.isoformat(), "practices": practice_ids, **{k: [p.pk for p in v] for k, v in found.items()}},
    )
    return found
