"""Domain rows → FHIR R4 resources (UK Core identifiers and code systems), each validated with
`fhir.resources.R4B` before it leaves, so nothing malformed is ever served."""

from __future__ import annotations

import functools
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from concerto.access.models import AuditEvent, CareTeamEntry, Consent, Membership
from concerto.api.fhir.http import DMD, NHS_NUMBER, ODS_CODE, SNOMED
from concerto.core.models import CodeListEntry
from concerto.organisations.models import Organisation, OrganisationKind
from concerto.people.actions import patient_version
from concerto.people.models import Patient, Sex, User
from concerto.people.selectors import current_registration
from concerto.records.models import ClinicalEvent, MedicationIssue
from concerto.referrals.models import Episode, Referral, Status

GENDER = {Sex.FEMALE: "female", Sex.MALE: "male", Sex.INDETERMINATE: "other", Sex.UNKNOWN: "unknown"}
SEX_OF_GENDER = {v: k for k, v in GENDER.items()}
CONCERTO_ORG_KIND = "https://concerto.example.org/fhir/CodeSystem/organisation-kind"
CONCERTO_ROLE = "https://concerto.example.org/fhir/CodeSystem/role"
CONCERTO_REFERRAL_STATUS = "https://concerto.example.org/fhir/CodeSystem/referral-status"


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """Check the resource against the R4B model and return its canonical JSON form."""
    model = get_fhir_model_class(resource["resourceType"])
    return model.model_validate(resource).model_dump(mode="json", exclude_none=True)


def reference(resource_type: str, id_: object, display: str = "") -> dict[str, Any]:
    ref: dict[str, Any] = {"reference": f"{resource_type}/{id_}"}
    if display:
        ref["display"] = display
    return ref


def patient_reference(patient: Patient) -> dict[str, Any]:
    return {
        "reference": f"Patient/{patient.public_id}",
        "identifier": {"system": NHS_NUMBER, "value": patient.nhs_number},
    }


def organisation_reference(org: Organisation) -> dict[str, Any]:
    return {
        "reference": f"Organization/{org.code}",
        "identifier": {"system": ODS_CODE, "value": org.code},
        "display": org.name,
    }


@functools.lru_cache(maxsize=4096)
def _term(code: str) -> str:
    entry = CodeListEntry.objects.filter(code=code).values_list("term", flat=True).first()
    return entry or ""


def _coding(system: str, code: str) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if term := _term(code):
        coding["display"] = term
    return {"coding": [coding]}


def patient_to_fhir(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.public_id),
        "meta": {"versionId": patient_version(patient)},
        "identifier": [{"system": NHS_NUMBER, "value": patient.nhs_number}],
        "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
        "gender": GENDER.get(Sex(patient.sex), "unknown"),
        "birthDate": patient.date_of_birth.isoformat(),
    }
    if patient.date_of_death:
        resource["deceasedDateTime"] = patient.date_of_death.isoformat()
    if patient.mobile_phone:
        resource["telecom"] = [{"system": "phone", "use": "mobile", "value": patient.mobile_phone}]
    if patient.postcode or patient.address:
        lines = [line for line in patient.address.splitlines() if line.strip()]
        address: dict[str, Any] = {"use": "home"}
        if lines:
            address["line"] = lines
        if patient.postcode:
            address["postalCode"] = patient.postcode
        resource["address"] = [address]
    registration = current_registration(patient)
    if registration is not None:
        resource["generalPractitioner"] = [organisation_reference(registration.practice)]
    return validated(resource)


def organisation_to_fhir(org: Organisation) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": org.code,
        "identifier": [{"system": ODS_CODE, "value": org.code}],
        "active": True,
        "name": org.name,
        "type": [{"coding": [{"system": CONCERTO_ORG_KIND, "code": org.kind, "display": org.get_kind_display()}]}],
    }
    if org.parent_id:
        resource["partOf"] = organisation_reference(org.parent)  # type: ignore[arg-type]
    if org.postcode:
        resource["address"] = [{"postalCode": org.postcode}]
    return validated(resource)


def practitioner_to_fhir(user: User) -> dict[str, Any]:
    # Staff names only: no contact details or user names.
    name: dict[str, Any] = {"family": user.last_name or user.username}
    if user.first_name:
        name["given"] = [user.first_name]
    return validated({"resourceType": "Practitioner", "id": str(user.pk), "active": user.is_active, "name": [name]})


def practitioner_role_to_fhir(membership: Membership) -> dict[str, Any]:
    role = membership.role_definition
    return validated(
        {
            "resourceType": "PractitionerRole",
            "id": str(membership.pk),
            "active": membership.is_active,
            "practitioner": reference("Practitioner", membership.user_id, membership.user.get_full_name()),
            "organization": organisation_reference(membership.organisation),
            "code": [{"coding": [{"system": CONCERTO_ROLE, "code": role.key, "display": role.title}]}],
        }
    )


def observation_to_fhir(event: ClinicalEvent) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(event.pk),
        "status": "final",
        "code": _coding(SNOMED, event.code),
        "subject": patient_reference(event.patient),
        "effectiveDateTime": event.date.isoformat(),
    }
    if event.value is not None:
        quantity: dict[str, Any] = {"value": float(event.value)}
        if event.unit:
            quantity.update({"unit": event.unit, "system": "http://unitsofmeasure.org", "code": event.unit})
        resource["valueQuantity"] = quantity
    if event.source_organisation is not None:
        resource["performer"] = [organisation_reference(event.source_organisation)]
    return validated(resource)


def condition_to_fhir(event: ClinicalEvent) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": str(event.pk),
        "code": _coding(SNOMED, event.code),
        "subject": patient_reference(event.patient),
        "onsetDateTime": event.date.isoformat(),
        "recordedDate": event.date.isoformat(),
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                    }
                ]
            }
        ],
    }
    if event.source_organisation is not None:
        resource["recorder"] = organisation_reference(event.source_organisation)
    return validated(resource)


def medication_statement_to_fhir(issue: MedicationIssue) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": str(issue.pk),
        "status": "completed",
        "medicationCodeableConcept": _coding(DMD, issue.code),
        "subject": patient_reference(issue.patient),
        "effectiveDateTime": issue.date.isoformat(),
        "dateAsserted": (issue.recorded_at.isoformat() if issue.recorded_at else issue.date.isoformat()),
    }
    if issue.source_organisation is not None:
        resource["informationSource"] = organisation_reference(issue.source_organisation)
    return validated(resource)


def care_team_to_fhir(entry: CareTeamEntry) -> dict[str, Any]:
    period: dict[str, Any] = {"start": entry.start.isoformat()}
    if entry.end:
        period["end"] = entry.end.isoformat()
    participant: dict[str, Any] = {"member": organisation_reference(entry.organisation), "period": period}
    if entry.role_in_care:
        participant["role"] = [{"text": entry.role_in_care}]
    return validated(
        {
            "resourceType": "CareTeam",
            "id": str(entry.pk),
            "status": "inactive" if entry.end else "active",
            "subject": patient_reference(entry.patient),
            "participant": [participant],
        }
    )


def episode_to_fhir(episode: Episode) -> dict[str, Any]:
    period: dict[str, Any] = {"start": episode.opened_on.isoformat()}
    if episode.closed_on:
        period["end"] = episode.closed_on.isoformat()
    return validated(
        {
            "resourceType": "EpisodeOfCare",
            "id": str(episode.pk),
            "status": "finished" if episode.closed_on else "active",
            "patient": patient_reference(episode.patient),
            "managingOrganization": organisation_reference(episode.team),
            "period": period,
            "referralRequest": [reference("ServiceRequest", episode.referral_id)],
            "careManager": reference("PractitionerRole", episode.key_worker_id),
        }
    )


# Referral status → ServiceRequest.status / Task.status. "Redirected" is not "revoked": the
# onward referral carries on (see docs/referrals.md); the domain status travels as businessStatus.
SERVICE_REQUEST_STATUS = {
    Status.RECEIVED: "active",
    Status.TRIAGED: "active",
    Status.ACCEPTED: "active",
    Status.ASSESSED: "active",
    Status.IN_TREATMENT: "active",
    Status.COMPLETED: "completed",
    Status.REDIRECTED: "completed",
    Status.DECLINED_BY_PATIENT: "revoked",
    Status.WITHDRAWN: "revoked",
}
TASK_STATUS = {
    Status.RECEIVED: "requested",
    Status.TRIAGED: "received",
    Status.ACCEPTED: "accepted",
    Status.ASSESSED: "in-progress",
    Status.IN_TREATMENT: "in-progress",
    Status.COMPLETED: "completed",
    Status.REDIRECTED: "completed",
    Status.DECLINED_BY_PATIENT: "cancelled",
    Status.WITHDRAWN: "cancelled",
}


def service_request_to_fhir(referral: Referral, *, clinical_detail: bool) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "meta": {"versionId": str(referral.version)},
        "status": SERVICE_REQUEST_STATUS[Status(referral.status)],
        "intent": "order",
        "subject": patient_reference(referral.patient),
        "authoredOn": referral.created_at.isoformat(),
        "performer": [organisation_reference(referral.destination)],
        "category": [{"text": referral.pathway_label}],
    }
    if referral.referrer_id:
        resource["requester"] = reference("PractitionerRole", referral.referrer_id)
    if referral.redirected_from_id:
        resource["replaces"] = [reference("ServiceRequest", referral.redirected_from_id)]
    if clinical_detail:  # the reason is clinical (see referrals.selectors.may_read_clinical_detail)
        resource["reasonCode"] = [{"text": referral.reason}]
    return validated(resource)


def task_to_fhir(referral: Referral) -> dict[str, Any]:
    status = Status(referral.status)
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(referral.pk),
        "meta": {"versionId": str(referral.version)},
        "status": TASK_STATUS[status],
        "businessStatus": {
            "coding": [{"system": CONCERTO_REFERRAL_STATUS, "code": status.value}],
            "text": status.label,
        },
        "intent": "order",
        "code": {"text": "Triage and act on referral"},
        "focus": reference("ServiceRequest", referral.pk),
        "for": patient_reference(referral.patient),
        "owner": organisation_reference(referral.destination),
        "authoredOn": referral.created_at.isoformat(),
    }
    if referral.named_person_id:
        resource["owner"] = reference("PractitionerRole", referral.named_person_id)
    return validated(resource)


def consent_to_fhir(consent: Consent) -> dict[str, Any]:
    kind = OrganisationKind(consent.organisation_kind)
    return validated(
        {
            "resourceType": "Consent",
            "id": str(consent.pk),
            "status": "active",
            "scope": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
            },
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
            "patient": patient_reference(consent.patient),
            "dateTime": consent.recorded_at.isoformat(),
            "provision": {
                "type": "permit" if consent.granted else "deny",
                "actor": [
                    {
                        "role": {"text": "Organisations of this kind"},
                        "reference": {"display": kind.label},
                    }
                ],
            },
        }
    )


AUDIT_ACTION = {"view": "R", "search": "E", "create": "C", "update": "U", "denied": "E"}


def audit_event_to_fhir(event: AuditEvent) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(event.pk),
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
        "subtype": [{"code": event.what}],
        "action": AUDIT_ACTION.get(event.action, "E"),
        "recorded": event.at.isoformat(),
        "outcome": "4" if event.action == "denied" else "0",
        "agent": [
            {
                "who": {"display": event.username},
                "requestor": True,
                "role": [{"text": event.role or "system"}],
            }
        ],
        "source": {"observer": {"display": event.organisation_code or "Concerto"}},
    }
    if event.membership_id:
        resource["agent"][0]["who"]["reference"] = f"PractitionerRole/{event.membership_id}"
    if event.patient_id:
        entity: dict[str, Any] = {"what": {"display": f"patient {event.patient_id}"}}
        if event.nhs_number:
            entity["what"]["identifier"] = {"system": NHS_NUMBER, "value": event.nhs_number}
        resource["entity"] = [entity]
    return validated(resource)
