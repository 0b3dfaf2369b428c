"""Plan writes. Every save makes a new, immutable version numbered one more than the version the
editor started from; if someone else saved first, the save is refused with a Conflict carrying
their version, so the view can show both people's work and nothing is lost or overwritten."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import patient_action
from concerto.careplans.models import AgreedHow, ChangeRequest, Kind, PlanStatus, PlanVersion
from concerto.careplans.sections import SECTIONS, InvalidPhoneNumber, normalise_uk_phone
from concerto.core import clock
from concerto.core.errors import ConcertoError, InvalidInput
from concerto.people.models import Patient


class Conflict(ConcertoError):
    """Someone saved a newer version since the editor opened: nothing of this save was written."""

    def __init__(self, latest: PlanVersion):
        self.latest = latest
        who = latest.saved_by.user.get_full_name() or latest.saved_by.user.username
        super().__init__(
            f"{who} saved a newer version of this plan (version {latest.number}) while you were editing. "
            "Your changes are not saved yet: they are kept below, next to theirs. Bring them together, then save."
        )


def latest_version(patient: Patient, kind: str) -> PlanVersion | None:
    return (
        PlanVersion.objects.filter(patient=patient, kind=kind)
        .select_related("saved_by__user", "saved_by__organisation")
        .order_by("-number")
        .first()
    )


def _check_content(kind: str, content: dict) -> dict:
    """Refuse content a form would not produce: unknown sections, crisis contacts without a valid
    UK phone number or hours (a crisis plan must never carry an unusable number: hazard H21)."""
    known = {s.key for s in SECTIONS[kind]}
    unknown = set(content) - known
    if unknown:
        raise InvalidInput(f"Unknown plan sections: {', '.join(sorted(unknown))}.")
    checked = dict(content)
    if kind == Kind.CRISIS:
        contacts = []
        for contact in content.get("contacts", []):
            if not str(contact.get("name", "")).strip() or not str(contact.get("hours", "")).strip():
                raise InvalidInput("Every crisis contact needs a name and the hours to call.")
            try:
                contacts.append({**contact, "phone": normalise_uk_phone(contact.get("phone", ""))})
            except InvalidPhoneNumber as exc:
                raise InvalidInput(f"{contact['name']}: {exc}") from None
        checked["contacts"] = contacts
    return checked


def _new_version(
    *,
    patient: Patient,
    kind: str,
    based_on: int,
    content: dict,
    by: Membership,
    change_note: str = "",
    status: str = PlanStatus.DRAFT,
    **agreement,
) -> PlanVersion:
    latest = latest_version(patient, kind)
    if latest is None and based_on != 0:
        raise InvalidInput("This plan has no saved versions: open the editor again.")
    if latest is not None and latest.number != based_on:
        raise Conflict(latest)
    try:
        # A savepoint, so a lost race leaves the outer transaction usable to read the winner.
        with transaction.atomic():
            version = PlanVersion.objects.create(
                patient=patient,
                kind=kind,
                number=based_on + 1,
                content=content,
                status=status,
                change_note=change_note.strip(),
                saved_by=by,
                saved_at=clock.now(),
                **agreement,
            )
    except IntegrityError:
        # Two saves of the same version raced: the other committed first (unique number).
        winner = latest_version(patient, kind)
        if winner is None:
            raise
        raise Conflict(winner) from None
    audit.record(
        by=by,
        action=AuditAction.CREATE,
        what=f"{kind}_plan",
        patient=patient,
        detail={"version": version.number, "status": status},
    )
    return version


def _dialog_snapshot(patient: Patient, by: Membership) -> dict | None:
    from concerto.careplans.selectors import dialog_needs

    return dialog_needs(patient, by=by)


@patient_action(Permission.PATIENT_CAREPLAN_EDIT, what="care_plan")
def save_plan(
    *, patient: Patient, kind: str, based_on: int, content: dict, change_note: str = "", by: Membership
) -> PlanVersion:
    """Save an edit of the patient's plan as a new draft version. `based_on` is the number of the
    version the editor started from (0 for a new plan). A care plan records the DIALOG answers it
    was written from, so later versions show what they were based on."""
    content = _check_content(kind, content)
    if kind == Kind.CARE:
        content["dialog"] = _dialog_snapshot(patient, by)
        if content["dialog"] is None:
            del content["dialog"]
    return _new_version(patient=patient, kind=kind, based_on=based_on, content=content, change_note=change_note, by=by)


@patient_action(Permission.PATIENT_CAREPLAN_EDIT, what="care_plan")
def agree_plan(
    *,
    patient: Patient,
    kind: str,
    based_on: int,
    agreed_with: str,
    agreed_on: dt.date,
    how: str,
    by: Membership,
) -> PlanVersion:
    """Record that the patient agreed the current version: a new version, same content, marked
    agreed with who agreed, when and how. Agreeing a version someone has since changed is a Conflict."""
    if not agreed_with.strip():
        raise InvalidInput("Say who agreed the plan.")
    if how not in AgreedHow.values:
        raise InvalidInput("Say how the plan was agreed.")
    if agreed_on > clock.today():
        raise InvalidInput("The date agreed cannot be in the future.")
    latest = latest_version(patient, kind)
    if latest is None:
        raise InvalidInput("There is no plan to agree yet.")
    written = timezone.localdate(latest.saved_at)
    if agreed_on < written:
        # Agreement is with these words: it cannot predate them (an earlier agreement was of other words).
        raise InvalidInput(f"This version was written on {written:%d %m %Y}: it cannot have been agreed earlier.")
    if latest.number == based_on and latest.is_agreed:
        raise InvalidInput("This version is already agreed.")
    return _new_version(
        patient=patient,
        kind=kind,
        based_on=based_on,
        content=latest.content,
        change_note=f"Agreed with {agreed_with.strip()}",
        status=PlanStatus.AGREED,
        agreed_with=agreed_with.strip(),
        agreed_on=agreed_on,
        agreed_how=how,
        by=by,
    )


@transaction.atomic
def request_plan_change(
    *, patient: Patient, text: str, kind: str = Kind.CARE, by_patient: bool = True
) -> ChangeRequest:
    """The patient asks for a change to their plan (through the portal). The request waits on the
    plan's page for the care team; it is audited with the patient as the actor."""
    if not by_patient:
        raise InvalidInput("Staff change the plan by editing it; requests come from the patient.")
    if not text.strip():
        raise InvalidInput("Say what you would like to change.")
    if kind not in Kind.values:
        raise InvalidInput("Unknown plan.")
    request = ChangeRequest.objects.create(patient=patient, kind=kind, text=text.strip(), requested_at=clock.now())
    audit.record_by_patient(
        patient=patient,
        action=AuditAction.CREATE,
        what="plan_change_request",
        detail={"request": request.pk, "kind": kind},
    )
    return request


@patient_action(Permission.PATIENT_CAREPLAN_EDIT, what="plan_change_request")
def resolve_change_request(
    *, patient: Patient, change_request: ChangeRequest, resolution: str, by: Membership
) -> ChangeRequest:
    if change_request.patient_id != patient.pk:
        raise InvalidInput("That request is for another patient.")
    if not resolution.strip():
        raise InvalidInput("Say what was done about the request.")
    updated = ChangeRequest.objects.filter(pk=change_request.pk, resolved_at__isnull=True).update(
        resolved_at=clock.now(), resolved_by=by, resolution=resolution.strip()
    )
    if not updated:
        raise InvalidInput("Someone has already dealt with this request.")
    audit.record(
        by=by,
        action=AuditAction.UPDATE,
        what="plan_change_request",
        patient=patient,
        detail={"request": change_request.pk},
    )
    change_request.refresh_from_db()
    return change_request
