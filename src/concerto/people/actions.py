import datetime as dt
import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction

from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import has_permission, patient_action
from concerto.core import nhs_number
from concerto.core.errors import ConcertoError, InvalidInput, NotPermitted
from concerto.organisations.models import Organisation, OrganisationKind
from concerto.people.models import Ethnicity, Patient, Registration, Sex, User


@transaction.atomic
def create_staff_user(
    *,
    username: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    is_staff: bool = False,
) -> User:
    """A staff account. `password=None` makes one that cannot log in until a password is set."""
    if User.objects.filter(username=username).exists():
        raise InvalidInput(f"A user called {username} already exists.")
    return User.objects.create_user(
        username=username,
        password=password,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_staff=is_staff,
    )


@transaction.atomic
def register_patient(
    *,
    nhs_number_text: str,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date,
    sex: str,
    practice: Organisation,
    registered_on: dt.date,
    ethnicity: str = Ethnicity.NOT_STATED,
    postcode: str = "",
    lsoa: str = "",
    imd_decile: int | None = None,
    by: Membership,
) -> Patient:
    """Register a new patient at the acting member's practice."""
    if not has_permission(by, Permission.PATIENT_REGISTER) or by.organisation_id != practice.pk:
        raise NotPermitted("You can only register patients at your own practice.")
    if practice.kind != OrganisationKind.GP_PRACTICE:
        raise InvalidInput("Patients register with a GP practice.")
    try:
        number = nhs_number.parse(nhs_number_text)
    except nhs_number.InvalidNHSNumber as exc:
        raise InvalidInput(str(exc)) from exc
    if Patient.objects.filter(nhs_number=number).exists():
        raise InvalidInput("A patient with this NHS number is already known; transfer their registration instead.")
    if sex not in Sex.values:
        raise InvalidInput(f"Unknown sex {sex!r}.")
    if ethnicity not in Ethnicity.values:
        raise InvalidInput(f"Unknown ethnicity {ethnicity!r}.")
    if imd_decile is not None and not 1 <= imd_decile <= 10:
        raise InvalidInput("IMD decile runs from 1 (most deprived) to 10.")
    if date_of_birth > registered_on:
        raise InvalidInput("The registration date is before the date of birth.")
    patient = Patient.objects.create(
        nhs_number=number,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        date_of_birth=date_of_birth,
        sex=sex,
        ethnicity=ethnicity,
        postcode=postcode.upper().strip(),
        lsoa=lsoa,
        imd_decile=imd_decile,
    )
    Registration.objects.create(patient=patient, practice=practice, start=registered_on)
    audit.record(
        by=by,
        action=AuditAction.CREATE,
        what="patient_registration",
        patient=patient,
        detail={"practice": practice.code},
    )
    return patient


class StaleVersion(ConcertoError):
    """The record changed since the version the caller based its change on: nothing was saved."""


# The demographic fields a versioned update may change; the version is a digest of them, so any
# change from anywhere moves it (Patient has no version column; see docs/api.md).
UPDATABLE_PATIENT_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "postcode",
    "date_of_death",
    "mobile_phone",
    "address",
)


def patient_version(patient: Patient) -> str:
    text = "\x1f".join(str(getattr(patient, f) or "") for f in UPDATABLE_PATIENT_FIELDS)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@patient_action(Permission.PATIENT_REGISTER, what="patient_details")
def update_patient_details(*, patient: Patient, expected_version: str | None, by: Membership, **changes) -> Patient:
    """Change a patient's demographic details if they are still at `expected_version` (None: no
    check, for a trusted feed's conditional update). The row is locked first, so of two changes
    made against the same version exactly one wins."""
    unknown = set(changes) - set(UPDATABLE_PATIENT_FIELDS)
    if unknown:
        raise InvalidInput(f"These details cannot be changed here: {', '.join(sorted(unknown))}.")
    current = Patient.objects.select_for_update().get(pk=patient.pk)
    if expected_version is not None and patient_version(current) != expected_version:
        raise StaleVersion("The patient's details changed since you read them; nothing was saved.")
    if changes.get("sex", current.sex) not in Sex.values:
        raise InvalidInput(f"Unknown sex {changes['sex']!r}.")
    changed = {f: v for f, v in changes.items() if getattr(current, f) != v}
    if not changed:
        return current
    for field, value in changed.items():
        setattr(current, field, value)
    try:
        current.full_clean(exclude=["nhs_number", "public_id"], validate_unique=False)
    except ValidationError as exc:
        raise InvalidInput("; ".join(exc.messages)) from exc
    current.save(update_fields=list(changed))
    audit.record(
        by=by,
        action=AuditAction.UPDATE,
        what="patient_details",
        patient=current,
        detail={"fields": sorted(changed)},
    )
    return current
