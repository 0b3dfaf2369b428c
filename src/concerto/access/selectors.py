from django.http import Http404

from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import visible_patients
from concerto.people.models import Patient


def memberships_for(user) -> list[Membership]:
    return list(Membership.objects.filter(user=user, is_active=True).select_related("organisation"))


def get_patient(*, by: Membership, public_id, permission: Permission, what: str) -> Patient:
    """Load a patient the membership may act on, auditing the read; otherwise audit the denial
    and raise Http404, so a patient without a relationship is indistinguishable from none."""
    patient = visible_patients(by, permission).filter(public_id=public_id).first()
    if patient is None:
        denied = Patient.objects.filter(public_id=public_id).first()
        audit.record(
            by=by,
            action=AuditAction.DENIED,
            what=what,
            patient=denied,
            detail={"permission": str(permission), "public_id": str(public_id)},
        )
        raise Http404("No patient found")
    audit.record(by=by, action=AuditAction.VIEW, what=what, patient=patient)
    return patient
