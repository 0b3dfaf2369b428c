"""Writing the audit trail. Called inside the same transaction as the read or write it records."""

from typing import Any

from concerto.access.models import AuditAction, AuditEvent, Membership
from concerto.core import clock
from concerto.people.models import Patient


def record(
    *,
    by: Membership | None,
    action: AuditAction,
    what: str,
    patient: Patient | None = None,
    detail: dict[str, Any] | None = None,
    user=None,
) -> AuditEvent:
    user = by.user if by is not None else user
    return AuditEvent.objects.create(
        at=clock.now(),
        user_id=getattr(user, "pk", None),
        username=getattr(user, "username", "") or "system",
        membership_id=by.pk if by else None,
        organisation_code=by.organisation.code if by else "",
        role=by.role if by else "",
        patient_id=patient.pk if patient else None,
        nhs_number=patient.nhs_number if patient else "",
        action=action,
        what=what,
        detail=detail or {},
    )


PATIENT_ACTOR_ROLE = "patient"


def record_by_patient(
    *, patient: Patient, action: AuditAction, what: str, detail: dict[str, Any] | None = None
) -> AuditEvent:
    """Audit something the patient did or saw themselves (the portal). The patient is both actor and subject:
    role "patient", no staff user or membership, and the patient's own identifiers."""
    return AuditEvent.objects.create(
        at=clock.now(),
        user_id=None,
        username="patient",
        membership_id=None,
        organisation_code="",
        role=PATIENT_ACTOR_ROLE,
        patient_id=patient.pk,
        nhs_number=patient.nhs_number,
        action=action,
        what=what,
        detail=detail or {},
    )
