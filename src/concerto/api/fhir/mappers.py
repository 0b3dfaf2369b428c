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


# --- care plans, goals, questionnaires, responses, directory services ---------------------------

PLAN_CATEGORY = {"care": "Care and support plan", "crisis": "Crisis and relapse plan"}


def care_plan_id(version) -> str:
    return f"{version.kind}-{version.patient.public_id}"


def care_plan_to_fhir(version) -> dict[str, Any]:
    """The latest version of one of the patient's plans. The FHIR id names the plan (kind and
    patient); meta.versionId is the plan's version number, so older versions are history."""
    from concerto.careplans import sections

    # The plan's own words, section by section, as the plan page and its print show them.
    lines = [
        f"{section.label}: {' / '.join(rows)}"
        for section in sections.SECTIONS.get(version.kind, [])
        if (rows := sections.section_lines(section, version.content))
    ]
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": care_plan_id(version),
        "meta": {"versionId": str(version.number), "lastUpdated": version.saved_at.isoformat()},
        # A draft after an agreed version is still a draft: the FHIR status says which this is.
        "status": "active" if version.status == "agreed" else "draft",
        "intent": "plan",
        "category": [{"text": PLAN_CATEGORY.get(version.kind, version.kind)}],
        "title": PLAN_CATEGORY.get(version.kind, version.kind),
        "subject": patient_reference(version.patient),
        "created": version.saved_at.isoformat(),
        "author": reference("PractitionerRole", version.saved_by_id),
    }
    if lines:
        resource["description"] = "\n".join(lines)[:10_000]
    goals = (version.content.get("goals") or []) if version.kind == "care" else []
    if goals:
        resource["goal"] = [reference("Goal", goal_id(version, n)) for n in range(1, len(goals) + 1)]
    if version.status == "agreed" and version.agreed_on:
        resource["note"] = [
            {"text": f"Agreed with {version.agreed_with} on {version.agreed_on.isoformat()} ({version.agreed_how})"}
        ]
    return validated(resource)


def goal_id(version, number: int) -> str:
    return f"{version.patient.public_id}-{number}"


def goals_to_fhir(version) -> list[dict[str, Any]]:
    """The goals of a care plan version (the patient's own words; progress on a 0–10 scale)."""
    resources = []
    for number, goal in enumerate(version.content.get("goals") or [], start=1):
        resource: dict[str, Any] = {
            "resourceType": "Goal",
            "id": goal_id(version, number),
            "lifecycleStatus": "active",
            "description": {"text": str(goal.get("goal", ""))[:300] or "Goal"},
            "subject": patient_reference(version.patient),
            "expressedBy": patient_reference(version.patient),
        }
        progress = []
        if goal.get("baseline") is not None:
            progress.append(f"baseline {goal['baseline']}/10")
        if goal.get("current") not in (None, ""):
            progress.append(f"now {goal['current']}/10")
        if progress:
            resource["note"] = [{"text": "Progress: " + ", ".join(progress)}]
        resources.append(validated(resource))
    return resources


ITEM_TYPE = {"choice": "choice", "integer": "integer", "boolean": "boolean", "string": "text", "text": "text"}


def questionnaire_to_fhir(definition) -> dict[str, Any]:
    def item(it) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "linkId": it.link_id,
            "text": it.text or it.link_id,
            "type": ITEM_TYPE.get(it.type, "string"),
            "required": it.required,
        }
        if it.options:
            entry["answerOption"] = [{"valueCoding": {"code": str(o.value), "display": o.display}} for o in it.options]
        return entry

    groups = [
        {
            "linkId": g.link_id or f"group-{n}",
            "text": g.text or g.link_id or "Questions",
            "type": "group",
            "item": [item(i) for i in g.items],
        }
        for n, g in enumerate(definition.sections, start=1)
        if g.items
    ]
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": definition.key,
        "url": definition.url,
        "version": definition.version,
        "name": "".join(ch for ch in definition.key.title() if ch.isalnum()) or "Questionnaire",
        "title": definition.title,
        "status": "active",
        "description": definition.description or definition.title,
        "item": groups,
    }
    if definition.copyright:
        resource["copyright"] = definition.copyright
    return validated(resource)


def questionnaire_response_to_fhir(response) -> dict[str, Any]:
    def answer(value) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"valueBoolean": value}
        if isinstance(value, int):
            return {"valueInteger": value}
        if isinstance(value, float):
            return {"valueDecimal": value}
        return {"valueString": str(value)}

    items = [
        {"linkId": str(link_id), "answer": [answer(value)]}
        for link_id, value in sorted(response.answers.items())
        if value not in (None, "")
    ]
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(response.pk),
        "questionnaire": f"{response.questionnaire_url}|{response.questionnaire_version}",
        "status": "completed",
        "subject": patient_reference(response.patient),
        "authored": response.completed_on.isoformat(),
        "item": items,
    }
    if response.completed_by_patient:
        resource["author"] = patient_reference(response.patient)
    elif response.recorded_by_id:
        resource["author"] = reference("PractitionerRole", response.recorded_by_id)
    return validated(resource)


def healthcare_service_to_fhir(service) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": service.oruk_id,
        "identifier": [{"system": "https://openreferraluk.org/service-id", "value": service.oruk_id}],
        "active": service.status == "active",
        "name": service.name,
    }
    if service.description:
        resource["comment"] = service.description[:2000]
    owner = service.organisation
    if owner.organisation_id:
        resource["providedBy"] = organisation_reference(owner.organisation)
    else:
        resource["providedBy"] = {"display": owner.name}
    telecom = []
    if service.email:
        telecom.append({"system": "email", "value": service.email})
    if service.url:
        telecom.append({"system": "url", "value": service.url})
    if telecom:
        resource["telecom"] = telecom
    terms = list(service.terms.all())
    if terms:
        resource["category"] = [{"text": t.name} for t in terms]
    if service.fees_description:
        resource["extraDetails"] = service.fees_description[:2000]
    return validated(resource)
