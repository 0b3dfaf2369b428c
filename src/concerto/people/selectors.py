import datetime as dt

from django.db.models import Q, QuerySet

from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import visible_patients
from concerto.core import nhs_number
from concerto.people.models import Patient, Registration

SEARCH_LIMIT = 50


def search_patients(*, by: Membership, text: str = "", date_of_birth: dt.date | None = None) -> list[Patient]:
    """Patients the membership may see matching an NHS number, or name words and/or date of birth.

    Name words match the start of the given or family name, case-insensitively. At most
    SEARCH_LIMIT results. One audit record per search, listing the patients shown.
    """
    text = text.strip()
    if not text and date_of_birth is None:
        return []
    patients: QuerySet[Patient] = visible_patients(by, Permission.PATIENT_SEARCH)
    digits = nhs_number.normalise(text)
    if digits.isascii() and digits.isdigit() and len(digits) == 10:
        patients = patients.filter(nhs_number=digits)
    else:
        for word in text.split():
            patients = patients.filter(Q(family_name__istartswith=word) | Q(given_name__istartswith=word))
    if date_of_birth is not None:
        patients = patients.filter(date_of_birth=date_of_birth)
    found = list(patients.order_by("family_name", "given_name", "date_of_birth")[:SEARCH_LIMIT])
    audit.record(
        by=by,
        action=AuditAction.SEARCH,
        what="patient_search",
        detail={
            "text": text,
            "date_of_birth": date_of_birth.isoformat() if date_of_birth else None,
            "patient_ids": [p.pk for p in found],
        },
    )
    return found


def current_registration(patient: Patient) -> Registration | None:
    return patient.registrations.filter(end__isnull=True).select_related("practice__parent").first()


def registration_history(patient: Patient) -> list[Registration]:
    return list(patient.registrations.select_related("practice").order_by("-start"))
