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
