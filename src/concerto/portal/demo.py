"""The demo's portal patient: someone with a referral, a mobile phone and (when the demo has them) a care plan."""

from concerto.people.models import Patient
from concerto.referrals.models import Referral


def portal_patient() -> Patient | None:
    referred = Referral.objects.filter(patient__date_of_death__isnull=True, patient__mobile_phone__gt="").order_by("pk")
    referral = referred.select_related("patient").first()
    return referral.patient if referral else None
