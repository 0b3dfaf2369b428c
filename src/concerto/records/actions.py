import datetime as dt
from decimal import Decimal

from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import patient_action
from concerto.core import clock
from concerto.core.errors import InvalidInput
from concerto.people.models import Patient
from concerto.records.models import ClinicalEvent, MedicationIssue


def _check_date(patient: Patient, on: dt.date) -> None:
    if on > clock.today():
        raise InvalidInput("The date cannot be in the future.")
    if on < patient.date_of_birth:
        raise InvalidInput("The date is before the patient's date of birth.")


@patient_action(Permission.PATIENT_RECORD_CLINICAL, what="clinical_event")
def record_clinical_event(
    *,
    patient: Patient,
    code: str,
    date: dt.date,
    value: Decimal | None = None,
    unit: str = "",
    by: Membership,
) -> ClinicalEvent:
    _check_date(patient, date)
    if not (code.isascii() and code.isdigit()):
        raise InvalidInput(f"{code!r} is not a SNOMED CT code.")
    if unit and value is None:
        raise InvalidInput("A unit needs a value.")
    event = ClinicalEvent.objects.create(
        patient=patient,
        code=code,
        date=date,
        value=value,
        unit=unit,
        source_organisation=by.organisation,
        recorded_at=clock.now(),
    )
    audit.record(
        by=by,
        action=AuditAction.CREATE,
        what="clinical_event",
        patient=patient,
        detail={"event_id": event.pk, "code": code},
    )
    return event


@patient_action(Permission.PATIENT_RECORD_CLINICAL, what="medication_issue")
def record_medication_issue(*, patient: Patient, code: str, date: dt.date, by: Membership) -> MedicationIssue:
    _check_date(patient, date)
    if not (code.isascii() and code.isdigit()):
        raise InvalidInput(f"{code!r} is not a dm+d code.")
    issue = MedicationIssue.objects.create(
        patient=patient, code=code, date=date, source_organisation=by.organisation, recorded_at=clock.now()
    )
    audit.record(
        by=by,
        action=AuditAction.CREATE,
        what="medication_issue",
        patient=patient,
        detail={"issue_id": issue.pk, "code": code},
    )
    return issue
