"""Plan reads for staff (with `by=`, through the access policy) and for the patient themselves
(the portal: agreed version plus any newer draft, marked as draft)."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field

from django.http import Http404

from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import has_permission, require_access
from concerto.careplans.models import ChangeRequest, Kind, PlanStatus, PlanVersion
from concerto.careplans.sections import NATIONAL_FALLBACKS, SECTIONS, section_lines
from concerto.core import clock
from concerto.core.errors import NotPermitted
from concerto.people.models import Patient

__all__ = [
    "NATIONAL_FALLBACKS",
    "crisis_plan",
    "crisis_plan_for_patient",
    "current_plan",
    "current_plan_for_patient",
    "plan_diff",
    "plan_versions",
]


def _versions(patient: Patient, kind: str):
    return (
        PlanVersion.objects.filter(patient=patient, kind=kind)
        .select_related("saved_by__user", "saved_by__organisation")
        .order_by("-number")
    )


def current_plan(patient: Patient, *, by: Membership, kind: str = Kind.CARE) -> PlanVersion | None:
    """The latest version, agreed or draft (so nobody acts on an older one: hazard H20), or None."""
    require_access(by, patient, Permission.PATIENT_CAREPLAN_VIEW, what=f"{kind}_plan")
    return _versions(patient, kind).first()


def crisis_plan(patient: Patient, *, by: Membership) -> PlanVersion | None:
    return current_plan(patient, by=by, kind=Kind.CRISIS)


def plan_versions(patient: Patient, *, by: Membership, kind: str = Kind.CARE) -> list[PlanVersion]:
    """Every version, newest first."""
    require_access(by, patient, Permission.PATIENT_CAREPLAN_VIEW, what=f"{kind}_plan")
    return list(_versions(patient, kind))


def get_version(patient: Patient, *, by: Membership, kind: str, number: int) -> PlanVersion:
    require_access(by, patient, Permission.PATIENT_CAREPLAN_VIEW, what=f"{kind}_plan")
    version = _versions(patient, kind).filter(number=number).first()
    if version is None:
        raise Http404("No such version")
    return version


def last_agreed(versions: list[PlanVersion]) -> PlanVersion | None:
    return next((v for v in versions if v.is_agreed), None)


def review_overdue(version: PlanVersion | None, today: dt.date | None = None) -> bool:
    """A care plan past its review date is flagged wherever it is shown (hazard H20)."""
    if version is None or not version.content.get("review_date"):
        return False
    return dt.date.fromisoformat(version.content["review_date"]) < (today or clock.today())


@dataclass(frozen=True)
class SectionDiff:
    label: str
    changed: bool
    lines: list[tuple[str, str]]  # ("same" | "removed" | "added", text)


def plan_diff(version_a: PlanVersion, version_b: PlanVersion, *, show_scores: bool = True) -> list[SectionDiff]:
    """Section by section, line by line, what changed from version A to version B."""
    if (version_a.patient_id, version_a.kind) != (version_b.patient_id, version_b.kind):
        raise ValueError("Only versions of the same plan can be compared.")
    result = []
    for section in SECTIONS[Kind(version_a.kind)]:
        before = section_lines(section, version_a.content, show_scores=show_scores)
        after = section_lines(section, version_b.content, show_scores=show_scores)
        lines: list[tuple[str, str]] = []
        for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
            if op == "equal":
                lines += [("same", line) for line in before[a1:a2]]
            else:
                lines += [("removed", line) for line in before[a1:a2]]
                lines += [("added", line) for line in after[b1:b2]]
        result.append(SectionDiff(section.label, before != after, lines))
    return result


def open_change_requests(patient: Patient, *, by: Membership) -> list[ChangeRequest]:
    require_access(by, patient, Permission.PATIENT_CAREPLAN_VIEW, what="plan_change_request")
    return list(ChangeRequest.objects.filter(patient=patient, resolved_at__isnull=True))


def dialog_needs(patient: Patient, *, by: Membership) -> dict | None:
    """The latest DIALOG answers, as saved with a care plan: {"completed": ISO date, "quality_of_life",
    "treatment_satisfaction", "domains": [{label, score, wants_help}]}; None when there are none or
    the role may not read questionnaire results."""
    if not has_permission(by, Permission.PATIENT_VIEW_CLINICAL):
        return None
    # Imported here: outcomes is a separate bounded context that reads nothing of ours.
    from concerto.outcomes.selectors import latest_dialog

    try:
        summary = latest_dialog(patient, by=by)
    except NotPermitted:
        return None
    if summary is None:
        return None
    return {
        "completed": summary.completed_on.isoformat(),
        "quality_of_life": summary.quality_of_life,
        "treatment_satisfaction": summary.treatment_satisfaction,
        "domains": [{"label": d.label, "score": d.rating, "wants_help": d.wants_more_help} for d in summary.domains],
    }


def newer_dialog(version: PlanVersion | None, latest: dict | None) -> dict | None:
    """DIALOG answers completed after the ones this care plan was written from (or, for a plan
    written without any, the first ones): the plan may no longer fit the person's needs (H20)."""
    if version is None or version.kind != Kind.CARE or latest is None:
        return None
    based_on = (version.content.get("dialog") or {}).get("completed")
    return latest if based_on is None or latest["completed"] > based_on else None


def physical_health_suggestions(patient: Patient, *, by: Membership) -> list[str]:
    """Open follow-ups and outstanding checks from the SMI physical health register, offered as
    physical-health actions (only to roles that may read the clinical record)."""
    if not has_permission(by, Permission.PATIENT_VIEW_CLINICAL):
        return []
    from concerto.register.selectors import patient_check

    check = patient_check(by=by, patient=patient)
    if not check.on_register:
        return []
    suggestions = [f"{d['intervention'].label} (after {d['flag'].lower()})" for d in check.follow_ups_due]
    suggestions += [f"Physical health check: {label.lower()}" for label in check.outstanding]
    return suggestions


@dataclass
class PatientPlan:
    """What the patient sees: the version they agreed and, if someone has changed it since, the
    newer draft clearly marked as a draft."""

    agreed: PlanVersion | None
    draft: PlanVersion | None
    fallbacks: list[dict] = field(default_factory=list)

    @property
    def latest(self) -> PlanVersion | None:
        return self.draft or self.agreed


def _for_patient(patient: Patient, kind: str) -> PatientPlan:
    versions = list(_versions(patient, kind))
    agreed = last_agreed(versions)
    newest = versions[0] if versions else None
    draft = newest if newest is not None and newest.status == PlanStatus.DRAFT else None
    audit.record_by_patient(
        patient=patient,
        action=AuditAction.VIEW,
        what=f"{kind}_plan",
        detail={"agreed": agreed.number if agreed else None, "draft": draft.number if draft else None},
    )
    return PatientPlan(agreed, draft, NATIONAL_FALLBACKS if kind == Kind.CRISIS else [])


def current_plan_for_patient(patient: Patient) -> PatientPlan:
    """For the patient's own portal (the caller has bound the session to this patient)."""
    return _for_patient(patient, Kind.CARE)


def crisis_plan_for_patient(patient: Patient) -> PatientPlan:
    """For the patient's own portal; `fallbacks` are the national crisis lines, always shown."""
    return _for_patient(patient, Kind.CRISIS)
