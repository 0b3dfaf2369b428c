"""What the signed-in patient sees of their own record. Every function takes the session's patient
and reads only rows belonging to that patient, so another patient's identifier finds nothing (404)."""

from django.db.models import QuerySet
from django.http import Http404

from concerto.access import audit
from concerto.access.models import AuditAction
from concerto.people.models import Patient
from concerto.referrals.models import Contact, Referral


def my_referrals(patient: Patient) -> QuerySet[Referral]:
    audit.record_by_patient(patient=patient, action=AuditAction.VIEW, what="portal_referrals")
    return Referral.objects.filter(patient=patient).select_related("destination").order_by("-received_on", "-pk")


def my_referral(patient: Patient, referral_id: int) -> tuple[Referral, list, list[Contact]]:
    referral = (
        Referral.objects.filter(patient=patient, pk=referral_id)
        .select_related("destination", "named_person__user")
        .first()
    )
    if referral is None:
        raise Http404("No such referral")
    audit.record_by_patient(
        patient=patient, action=AuditAction.VIEW, what="portal_referral", detail={"referral": referral.pk}
    )
    history = list(referral.events.order_by("at", "pk"))
    contacts = list(Contact.objects.filter(episode__referral=referral).order_by("-date"))
    return referral, history, contacts
