"""FHIR writes: create and update one resource, and transaction Bundles that are all-or-nothing.

Every change goes through the domain's actions (`people.actions`, `records.actions`) as the
calling membership, so the access policy and audit apply exactly as in the web pages. Patients
are found through `visible_patients`: a patient the caller may not see is "not found".

Imports are idempotent: a patient is matched by NHS number; a coded event by the identifier the
sending system gave it (kept in `ImportedRecord`) or, without one, by being identical (same
patient, code, date, value and unit). Sending the same bundle twice therefore changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import visible_patients
from concerto.api.fhir import mappers
from concerto.api.fhir.http import DMD, NHS_NUMBER, ODS_CODE, SNOMED, FhirError, is_row_id, not_found, parse_if_match
from concerto.api.models import ImportedRecord
from concerto.core import clock, nhs_number
from concerto.core.errors import InvalidInput, NotPermitted
from concerto.organisations.models import Organisation
from concerto.people.actions import StaleVersion, patient_version, register_patient, update_patient_details
from concerto.people.models import Patient
from concerto.records.actions import record_clinical_event, record_medication_issue
from concerto.records.models import ClinicalEvent, MedicationIssue

WRITABLE = ("Patient", "Observation", "Condition", "MedicationStatement")


@dataclass(frozen=True)
class Outcome:
    resource: dict[str, Any]
    created: bool
    changed: bool

    @property
    def status(self) -> int:
        return 201 if self.created else 200

    @property
    def location(self) -> str:
        return f"{self.resource['resourceType']}/{self.resource['id']}"

    @property
    def version(self) -> str | None:
        return self.resource.get("meta", {}).get("versionId")


def validate_resource(body: dict[str, Any], expected_type: str | None = None) -> dict[str, Any]:
    """The body as a validated R4 resource (canonical JSON), or a 400 naming what is wrong."""
    resource_type = body.get("resourceType")
    if not isinstance(resource_type, str):
        raise FhirError(400, "A resource needs a resourceType", code="structure")
    if expected_type is not None and resource_type != expected_type:
        raise FhirError(400, f"Expected a {expected_type}, got {resource_type}", code="structure")
    try:
        model = get_fhir_model_class(resource_type)
    except KeyError as exc:
        raise FhirError(400, f"Unknown resource type {resource_type!r}", code="structure") from exc
    try:
        return model.model_validate(body).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        raise FhirError(400, f"Invalid {resource_type}: {_short(exc)}", code="structure") from exc
    except (ValueError, TypeError, KeyError) as exc:  # the models raise these for some malformed values
        # (e.g. KeyError for an unknown resourceType nested in a Bundle entry)
        raise FhirError(400, f"Invalid {resource_type}: {str(exc)[:300]}", code="structure") from exc


def _short(exc: ValidationError) -> str:
    errors = exc.errors()[:3]
    return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors)[:500]


def domain_errors(call, patient: Patient | None = None):
    """Run an action, turning the domain's errors into FHIR ones (a refusal remembers `patient`
    for its denial audit)."""
    try:
        return call()
    except StaleVersion as exc:
        raise FhirError(412, str(exc), code="conflict") from exc
    except InvalidInput as exc:
        raise FhirError(422, str(exc), code="business-rule") from exc
    except NotPermitted as exc:
        raise FhirError(403, str(exc), code="forbidden", patient=patient) from exc


@contextmanager
def atomic_write(
    *, by: Membership, what: str, detail: dict[str, Any], audit_every_refusal: bool = False
) -> Iterator[None]:
    """One write (or bundle), all or nothing. The policy audits a refusal before the action's own
    transaction, but this outer one rolls that record back with everything else, so refusals are
    audited as denied here, after the rollback: by default a refusal (403), an unseen patient (404),
    a lost race (409) and an unexpected failure (500); with `audit_every_refusal`, every 4xx too.

    Two requests recording the same identifier at once both miss it and both insert: the unique
    constraint refuses the second, which answers 409 (send it again: it then finds the record)."""

    def refused(status: int, reason: str, patient: Patient | None = None) -> None:
        if audit_every_refusal or status in (403, 404, 409, 500):
            audit.record(
                by=by,
                action=AuditAction.DENIED,
                what=what,
                patient=patient,
                detail={**detail, "status": status, "reason": reason[:200]},
            )

    try:
        try:
            with transaction.atomic():
                yield
        except IntegrityError as exc:
            raise FhirError(
                409, "Another request wrote the same record at the same time; nothing was saved", code="conflict"
            ) from exc
    except FhirError as exc:
        refused(exc.status, exc.diagnostics, exc.patient)
        raise
    except Exception:
        # Rolled back and answered 500 by the view (which logs it); the attempt is still on record.
        refused(500, "unexpected failure")
        raise


# --- Patient -----------------------------------------------------------------------------------


def _nhs_number_of(resource: dict[str, Any]) -> str:
    for identifier in resource.get("identifier", []):
        if identifier.get("system") == NHS_NUMBER and identifier.get("value"):
            try:
                return nhs_number.parse(identifier["value"])
            except nhs_number.InvalidNHSNumber as exc:
                raise FhirError(422, str(exc), code="business-rule") from exc
    raise FhirError(422, f"A Patient needs an NHS number identifier ({NHS_NUMBER})", code="required")


def _date(text: str | None, what: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError as exc:
        raise FhirError(422, f"{what} is not a date", code="value") from exc


def _patient_details(resource: dict[str, Any]) -> dict[str, Any]:
    names = resource.get("name") or [{}]
    name = next((n for n in names if n.get("use") == "official"), names[0])
    given = (name.get("given") or [""])[0]
    family = name.get("family") or ""
    if not given or not family:
        raise FhirError(422, "A Patient needs a family name and a given name", code="required")
    birth = _date(resource.get("birthDate"), "birthDate")
    if birth is None:
        raise FhirError(422, "A Patient needs a birthDate", code="required")
    sex = mappers.SEX_OF_GENDER.get(resource.get("gender", "unknown"))
    if sex is None:
        raise FhirError(422, "Unknown gender", code="value")
    address = (resource.get("address") or [{}])[0]
    mobile = next(
        (t.get("value", "") for t in resource.get("telecom", []) if t.get("system") == "phone"),
        "",
    )
    return {
        "given_name": given.strip(),
        "family_name": family.strip(),
        "date_of_birth": birth,
        "sex": sex,
        "postcode": (address.get("postalCode") or "").upper().strip(),
        "address": "\n".join(address.get("line", [])),
        "mobile_phone": mobile,
        "date_of_death": _date(resource.get("deceasedDateTime"), "deceasedDateTime"),
    }


def _practice_of(resource: dict[str, Any], by: Membership) -> Organisation:
    """The practice named by generalPractitioner (ODS identifier or Organization/<code>), else
    the caller's own organisation (register_patient then checks it is a practice they may use)."""
    for ref in resource.get("generalPractitioner", []):
        identifier = ref.get("identifier") or {}
        code = identifier.get("value") if identifier.get("system") in (ODS_CODE, None) else None
        code = code or (ref.get("reference") or "").removeprefix("Organization/")
        if code:
            practice = Organisation.objects.filter(code=code).first()
            if practice is None:
                raise FhirError(422, f"Unknown practice {code}", code="not-found")
            return practice
    return by.organisation


def check_condition(condition: str, resource: dict[str, Any]) -> None:
    """A conditional create or update (`If-None-Exist`, `Patient?identifier=…`) is matched by NHS
    number: the condition must name the same number as the resource, or nothing is written."""
    query = condition.partition("?")[2] if "?" in condition else condition
    params = [p.partition("=") for p in query.split("&") if p]
    numbers = [v.rpartition("|")[2] for k, _, v in params if k == "identifier" and v.startswith(NHS_NUMBER + "|")]
    if len(params) != 1 or len(numbers) != 1:
        raise FhirError(
            400, f"Conditions are matched by identifier={NHS_NUMBER}|<NHS number> only", code="not-supported"
        )
    if nhs_number.normalise(numbers[0]) != _nhs_number_of(resource):
        raise FhirError(400, "The condition names a different NHS number from the resource", code="invalid")


def visible_patient(by: Membership, *, public_id: str | None = None, number: str | None = None) -> Patient | None:
    patients = visible_patients(by, Permission.PATIENT_VIEW_DEMOGRAPHICS)
    if public_id is not None:
        try:
            return patients.filter(public_id=uuid.UUID(public_id)).first()
        except ValueError:
            return None
    return patients.filter(nhs_number=number).first()


def unseen(what: str, patient: Patient | None) -> FhirError:
    """404 for a patient the caller may not see, exactly as for none; `patient` (looked up without
    the policy) is only for the denial audit."""
    error = not_found(what)
    error.patient = patient
    return error


def _any_patient(*, public_id: str | None = None, number: str | None = None) -> Patient | None:
    if public_id is not None:
        try:
            return Patient.objects.filter(public_id=uuid.UUID(public_id)).first()
        except ValueError:
            return None
    return Patient.objects.filter(nhs_number=number).first()


def create_or_match_patient(resource: dict[str, Any], *, by: Membership, update_existing: bool) -> Outcome:
    """Register the patient, or find them by NHS number (conditional create); with
    `update_existing`, also bring their details up to date (conditional update)."""
    number = _nhs_number_of(resource)
    details = _patient_details(resource)
    existing = visible_patient(by, number=number)
    if existing is not None:
        before = patient_version(existing)
        if update_existing:
            existing = domain_errors(
                lambda: update_patient_details(patient=existing, expected_version=None, by=by, **details), existing
            )
        return Outcome(mappers.patient_to_fhir(existing), created=False, changed=patient_version(existing) != before)
    practice = _practice_of(resource, by)
    contact = {k: details.pop(k) for k in ("address", "mobile_phone", "date_of_death")}
    patient = domain_errors(
        lambda: register_patient(
            nhs_number_text=number,
            practice=practice,
            registered_on=clock.today(),
            by=by,
            **details,
        )
    )
    if any(contact.values()):
        patient = domain_errors(
            lambda: update_patient_details(patient=patient, expected_version=None, by=by, **contact), patient
        )
    return Outcome(mappers.patient_to_fhir(patient), created=True, changed=True)


def update_patient(public_id: str, resource: dict[str, Any], *, if_match: str | None, by: Membership) -> Outcome:
    """Versioned update: 428 without If-Match, 412 when it names an old version."""
    if if_match is None:
        raise FhirError(428, "Updates need If-Match with the version you read (the ETag)", code="conflict")
    patient = visible_patient(by, public_id=public_id)
    if patient is None:
        raise unseen("Patient", _any_patient(public_id=public_id))
    if resource.get("id") not in (None, public_id):
        raise FhirError(400, "The resource id does not match the URL", code="invalid")
    if _nhs_number_of(resource) != patient.nhs_number:
        raise FhirError(422, "The NHS number cannot be changed by an update", code="business-rule")
    details = _patient_details(resource)
    before = patient_version(patient)
    updated = domain_errors(
        lambda: update_patient_details(patient=patient, expected_version=if_match, by=by, **details), patient
    )
    return Outcome(mappers.patient_to_fhir(updated), created=False, changed=patient_version(updated) != before)


# --- coded events ------------------------------------------------------------------------------


class References:
    """urn:uuid placeholders of a transaction, resolved to patients as their entries are processed."""

    def __init__(self):
        self.patients: dict[str, Patient] = {}

    def patient(self, ref: dict[str, Any] | None, by: Membership) -> Patient:
        ref = ref or {}
        text = ref.get("reference") or ""
        if text.startswith("urn:uuid:"):
            if text not in self.patients:
                raise FhirError(400, f"Reference {text} names no Patient entry of this bundle", code="invalid")
            return self.patients[text]
        if text.startswith("Patient/"):
            named = {"public_id": text.removeprefix("Patient/")}
        elif text:
            raise FhirError(400, "A subject must reference a Patient", code="invalid")
        elif (ref.get("identifier") or {}).get("system") == NHS_NUMBER:
            named = {"number": nhs_number.normalise(ref["identifier"].get("value", ""))}
        else:
            raise FhirError(400, "A subject reference is required", code="required")
        patient = visible_patient(by, **named)
        if patient is None:
            raise unseen("The referenced Patient", _any_patient(**named))
        return patient


def _code(concept: dict[str, Any] | None, system: str, what: str) -> str:
    for coding in (concept or {}).get("coding", []):
        if coding.get("system") == system and coding.get("code"):
            return coding["code"]
    raise FhirError(422, f"{what} needs a code from {system}", code="required")


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def _source_identifier(resource: dict[str, Any]) -> tuple[str, str] | None:
    for identifier in resource.get("identifier", []):
        if identifier.get("system") and identifier.get("value"):
            return identifier["system"], identifier["value"]
    return None


def _idempotent(
    resource_type: str, resource: dict[str, Any], patient: Patient, fingerprint: str, find_same, create, by: Membership
):
    """Return (row, created): the row this resource already became, or a new one. Identifiers are
    looked up among those the caller's organisation sent."""
    source = _source_identifier(resource)
    sender = {"organisation": by.organisation, "system": source[0], "value": source[1]} if source else {}
    if source is not None:
        known = ImportedRecord.objects.filter(**sender, resource_type=resource_type).first()
        if known is not None:
            if known.fingerprint != fingerprint:
                raise FhirError(
                    422,
                    f"{resource_type} {source[1]} was imported before with different content; amendments to "
                    "coded records are not supported through the API",
                    code="business-rule",
                )
            return find_same(pk=known.object_id), False
    else:
        existing = find_same()
        if existing is not None:
            return existing, False
    row = domain_errors(create, patient)
    if source is not None:
        ImportedRecord.objects.create(**sender, resource_type=resource_type, object_id=row.pk, fingerprint=fingerprint)
    return row, True


# Statuses that mean "this happened and is recorded": anything else (preliminary, entered in
# error, not taken…) is not a coded event of the record and is refused rather than guessed at.
RECORDED_STATUS = {
    "Observation": {"final", "amended", "corrected"},
    "MedicationStatement": {"active", "completed", "stopped", "on-hold", "unknown"},
}


def create_coded_event(resource: dict[str, Any], *, refs: References, by: Membership) -> Outcome:
    kind = resource["resourceType"]
    allowed = RECORDED_STATUS.get(kind)
    if allowed is not None and resource.get("status") not in allowed:
        raise FhirError(422, f"A {kind} with status {resource.get('status')!r} cannot be recorded", code="value")
    if kind == "MedicationStatement":
        patient = refs.patient(resource.get("subject"), by)
        code = _code(resource.get("medicationCodeableConcept"), DMD, "A MedicationStatement")
        on = _date(resource.get("effectiveDateTime") or resource.get("dateAsserted"), "effectiveDateTime")
        if on is None:
            raise FhirError(422, "A MedicationStatement needs effectiveDateTime", code="required")
        issue, created = _idempotent(
            kind,
            resource,
            patient,
            _fingerprint(patient.pk, code, on),
            lambda **pk: MedicationIssue.objects.filter(patient=patient, code=code, date=on, **pk).first(),
            lambda: record_medication_issue(patient=patient, code=code, date=on, by=by),
            by,
        )
        return Outcome(mappers.medication_statement_to_fhir(issue), created=created, changed=created)
    patient = refs.patient(resource.get("subject"), by)
    code = _code(resource.get("code"), SNOMED, f"A {kind}")
    if kind == "Condition":
        on = _date(resource.get("onsetDateTime") or resource.get("recordedDate"), "onsetDateTime")
        value, unit = None, ""
    else:
        on = _date(resource.get("effectiveDateTime"), "effectiveDateTime")
        quantity = resource.get("valueQuantity")
        value, unit = _quantity(quantity) if quantity else (None, "")
    if on is None:
        raise FhirError(422, f"A {kind} needs a date", code="required")
    event, created = _idempotent(
        kind,
        resource,
        patient,
        _fingerprint(patient.pk, code, on, value, unit),
        lambda **pk: ClinicalEvent.objects.filter(
            patient=patient, code=code, date=on, value=value, unit=unit, **pk
        ).first(),
        lambda: record_clinical_event(patient=patient, code=code, date=on, value=value, unit=unit, by=by),
        by,
    )
    to_fhir = mappers.condition_to_fhir if kind == "Condition" else mappers.observation_to_fhir
    return Outcome(to_fhir(event), created=created, changed=created)


def _quantity(quantity: dict[str, Any]) -> tuple[Decimal, str]:
    try:
        value = Decimal(str(quantity["value"])).quantize(Decimal("0.01"))
    except (KeyError, InvalidOperation) as exc:
        raise FhirError(422, "valueQuantity needs a numeric value", code="value") from exc
    if abs(value) >= Decimal("1e8"):
        raise FhirError(422, "valueQuantity is out of range", code="value")
    unit = str(quantity.get("code") or quantity.get("unit") or "")
    if len(unit) > 20:
        raise FhirError(422, "The unit is too long", code="value")
    return value, unit


def create(resource_type: str, body: dict[str, Any], *, if_none_exist: str | None, by: Membership) -> Outcome:
    """POST /fhir/<type>: one resource, in its own transaction."""
    if resource_type not in WRITABLE:
        raise FhirError(405, f"{resource_type} cannot be created through this API", code="not-supported")
    resource = validate_resource(body, resource_type)
    with atomic_write(by=by, what=f"fhir_{resource_type.lower()}", detail={"operation": "create"}):
        if resource_type == "Patient":
            # Conditional create (If-None-Exist) is how a feed avoids duplicates; a plain POST for a
            # known NHS number is refused by the registration action as in the web pages.
            if if_none_exist is not None:
                check_condition(if_none_exist, resource)
            if if_none_exist is not None or visible_patient(by, number=_nhs_number_of(resource)) is None:
                return create_or_match_patient(resource, by=by, update_existing=False)
            raise FhirError(422, "This patient is already known: use a conditional create or update", code="duplicate")
        return create_coded_event(resource, refs=References(), by=by)


# --- transaction Bundles -----------------------------------------------------------------------


def _entry_target(entry: dict[str, Any], index: int) -> tuple[str, str, dict[str, Any] | None]:
    request = entry.get("request") or {}
    method = request.get("method")
    url = request.get("url") or ""
    if method not in ("POST", "PUT"):
        raise FhirError(400, f"Entry {index}: only POST and PUT are supported in a transaction", code="not-supported")
    resource = entry.get("resource")
    if resource is None:
        raise FhirError(400, f"Entry {index}: a {method} needs a resource", code="required")
    return method, url, resource


def process_transaction(body: dict[str, Any], *, by: Membership) -> dict[str, Any]:
    """Apply a transaction Bundle atomically: every entry, or (on any error) none of them. Patients
    are processed first so that later entries can reference them by their urn:uuid fullUrl."""
    bundle = validate_resource(body, "Bundle")
    if bundle.get("type") != "transaction":
        raise FhirError(400, "Only transaction Bundles are accepted here", code="not-supported")
    entries = bundle.get("entry", [])
    full_urls = [e.get("fullUrl") for e in entries if e.get("fullUrl")]
    if len(full_urls) != len(set(full_urls)):
        raise FhirError(400, "Two entries share a fullUrl", code="invalid")
    order = sorted(
        range(len(entries)), key=lambda i: (entries[i].get("resource") or {}).get("resourceType") != "Patient"
    )
    results: dict[int, Outcome] = {}
    with atomic_write(by=by, what="fhir_transaction", detail={"entries": len(entries)}, audit_every_refusal=True):
        refs = References()
        for index in order:
            entry = entries[index]
            method, url, resource = _entry_target(entry, index)
            assert resource is not None
            results[index] = _apply_entry(index, method, url, resource, entry, refs, by)
    changed = sum(1 for r in results.values() if r.changed)
    audit.record(
        by=by, action=AuditAction.UPDATE, what="fhir_transaction", detail={"entries": len(entries), "changed": changed}
    )
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [_response_entry(results[i]) for i in range(len(entries))],
    }


def _apply_entry(index, method, url, resource, entry, refs: References, by: Membership) -> Outcome:
    resource_type = resource.get("resourceType")
    if resource_type not in WRITABLE:
        raise FhirError(400, f"Entry {index}: {resource_type} cannot be written here", code="not-supported")
    target = url.split("?")[0].split("/")[0]
    if target != resource_type:
        raise FhirError(400, f"Entry {index}: request.url {url!r} does not match a {resource_type}", code="invalid")
    resource = validate_resource(resource, resource_type)
    try:
        if resource_type == "Patient":
            if method == "PUT" and "/" in url.split("?")[0]:
                if_match = (entry.get("request") or {}).get("ifMatch")
                outcome = update_patient(url.split("/", 1)[1], resource, if_match=parse_if_match(if_match), by=by)
            else:
                # POST (conditional create) or PUT Patient?identifier=… (conditional update).
                condition = url if method == "PUT" else (entry.get("request") or {}).get("ifNoneExist")
                if condition:
                    check_condition(condition, resource)
                outcome = create_or_match_patient(resource, by=by, update_existing=method == "PUT")
            if entry.get("fullUrl"):
                refs.patients[entry["fullUrl"]] = visible_patient(by, public_id=outcome.resource["id"])  # type: ignore[assignment]
            return outcome
        if method != "POST":
            raise FhirError(400, f"Entry {index}: {resource_type} is created with POST", code="not-supported")
        return create_coded_event(resource, refs=refs, by=by)
    except FhirError as exc:
        exc.diagnostics = (
            f"Entry {index}: {exc.diagnostics}" if not exc.diagnostics.startswith("Entry") else exc.diagnostics
        )
        raise


def _response_entry(outcome: Outcome) -> dict[str, Any]:
    response: dict[str, Any] = {
        "status": f"{outcome.status} {'Created' if outcome.created else 'OK'}",
        "location": outcome.location,
    }
    if outcome.version:
        response["etag"] = f'W/"{outcome.version}"'
    return {"fullUrl": outcome.location, "response": response}


# --- referral triage as Task updates -----------------------------------------------------------


def update_task(task_id: str, resource: dict[str, Any], *, if_match: str | None, by: Membership) -> Outcome:
    """Move a referral by updating its Task's businessStatus, as the triage hub or owning team
    would on screen, through the referral actions. The Task's version is the referral's own
    optimistic-locking version: 428 without If-Match, 412 when someone moved it since."""
    from concerto.referrals import actions as referral_actions
    from concerto.referrals.models import Referral, Status

    if if_match is None:
        raise FhirError(428, "Updates need If-Match with the version you read (the ETag)", code="conflict")
    named = Referral.objects.filter(pk=int(task_id) if is_row_id(task_id) else -1)
    referral = (
        named.filter(patient__in=visible_patients(by, Permission.PATIENT_VIEW_DEMOGRAPHICS))
        .select_related("patient", "destination")
        .first()
    )
    if referral is None:
        hidden = named.select_related("patient").first()
        raise unseen("Task", hidden.patient if hidden else None)
    if not is_row_id(if_match) or int(if_match) != referral.version:
        raise FhirError(412, "The referral changed since you read it; nothing was saved.", code="conflict")
    codes = [
        c.get("code")
        for c in (resource.get("businessStatus") or {}).get("coding", [])
        if c.get("system") == mappers.CONCERTO_REFERRAL_STATUS
    ]
    if len(codes) != 1 or codes[0] not in Status.values:
        raise FhirError(
            422, f"Give the new status as one businessStatus coding from {mappers.CONCERTO_REFERRAL_STATUS}"
        )
    target = codes[0]
    note = " ".join(n.get("text", "") for n in resource.get("note", [])).strip()
    version = referral.version
    if target == referral.status:
        return Outcome(mappers.task_to_fhir(referral), created=False, changed=False)

    def named_person() -> Membership:
        owner = (resource.get("owner") or {}).get("reference", "")
        member_id = owner.removeprefix("PractitionerRole/")
        member = Membership.objects.filter(pk=int(member_id)).first() if is_row_id(member_id) else None
        if member is None:
            raise FhirError(422, "Accepting needs the named person as owner (PractitionerRole/<id>)", code="required")
        return member

    moves = {
        Status.TRIAGED: lambda: referral_actions.triage(referral=referral, version=version, rationale=note, by=by),
        Status.ACCEPTED: lambda: referral_actions.accept(
            referral=referral, version=version, named_person=named_person(), rationale=note, by=by
        ),
        Status.ASSESSED: lambda: referral_actions.record_assessment(
            referral=referral, version=version, on=clock.today(), by=by
        ),
        Status.IN_TREATMENT: lambda: referral_actions.start_treatment(
            referral=referral, version=version, on=clock.today(), by=by
        ),
        Status.COMPLETED: lambda: referral_actions.complete(referral=referral, version=version, note=note, by=by),
        Status.DECLINED_BY_PATIENT: lambda: referral_actions.decline_by_patient(
            referral=referral, version=version, reason=note, by=by
        ),
        Status.WITHDRAWN: lambda: referral_actions.withdraw(referral=referral, version=version, reason=note, by=by),
    }
    move = moves.get(Status(target))
    if move is None:
        # A redirect names a destination and a hand-over: done on the referral page for now.
        raise FhirError(422, f"Moving a referral to {target} is not supported through the API", code="not-supported")
    try:
        moved = domain_errors(move, referral.patient)
    except referral_actions.Conflict as exc:
        raise FhirError(412, str(exc), code="conflict") from exc
    return Outcome(mappers.task_to_fhir(moved), created=False, changed=True)
