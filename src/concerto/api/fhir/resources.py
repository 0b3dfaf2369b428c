"""Read and search, per resource type, through the access policy.

Patient-level resources start from `visible_patients(by, permission)`: a row of a patient the
caller may not see is never found (404, as for a row that does not exist). Every read is audited
with the patient; every search with the ids of the patients it returned. Search parameters not
listed for a type are refused (400) rather than silently ignored, so a caller never takes an
unfiltered answer for a filtered one.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from concerto.access import audit
from concerto.access.models import AuditAction, AuditEvent, CareTeamEntry, Consent, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import has_permission, visible_patients
from concerto.api.fhir import mappers
from concerto.api.fhir.http import DMD, NHS_NUMBER, ODS_CODE, SNOMED, FhirError, not_found
from concerto.careplans.models import PlanVersion
from concerto.directory.models import Service
from concerto.organisations.models import Organisation
from concerto.outcomes import definitions as questionnaire_definitions
from concerto.outcomes.models import QuestionnaireResponse
from concerto.people.models import Patient, User
from concerto.records.models import ClinicalEvent, MedicationIssue
from concerto.referrals.models import Episode, Referral
from concerto.referrals.selectors import may_read_clinical_detail
from concerto.register.queries import CODES

Params = dict[str, list[str]]


@dataclass
class ResourceType:
    name: str
    # Rows this membership may see (already scoped by the access policy), or None: not allowed at all.
    rows: Callable[[Membership], QuerySet | None]
    to_fhir: Callable[[Membership, Any], dict[str, Any]]
    lookup: Callable[[str], Q]  # the FHIR id → a filter
    search_params: dict[str, Callable[[str], Q]] = field(default_factory=dict)
    patient_of: Callable[[Any], Patient | None] = lambda row: None
    order: tuple[str, ...] = ("pk",)
    select: tuple[str, ...] = ()
    # The patient-level permission that makes a denied read worth auditing as a denial.
    permission: Permission | None = None
    interactions: tuple[str, ...] = ("read", "search-type")
    # The same rows before the access policy's scoping, for searches that name their patients:
    # those are resolved through the policy first (a few ids), instead of scoping every row.
    unscoped: Callable[[], QuerySet] | None = None
    # Resources that are not one row each (goals inside a plan, questionnaires defined in files).
    virtual_read: Callable[[Membership, str], dict[str, Any]] | None = None
    virtual_search: Callable[[Membership, Params], list[dict[str, Any]]] | None = None

    def queryset(self, by: Membership) -> QuerySet:
        rows = self.rows(by)
        if rows is None:
            return Patient.objects.none()
        return rows.select_related(*self.select) if self.select else rows


# --- search parameter parsing ------------------------------------------------------------------

_DATE_PREFIX = re.compile(r"^(eq|ne|gt|lt|ge|le)?(\d{4}-\d{2}-\d{2})$")


def _date_filter(column: str) -> Callable[[str], Q]:
    def build(value: str) -> Q:
        match = _DATE_PREFIX.match(value)
        if not match:
            raise FhirError(400, f"Dates are searched as [eq|gt|lt|ge|le]YYYY-MM-DD, not {value!r}")
        prefix, text = match.group(1) or "eq", match.group(2)
        try:
            day = dt.date.fromisoformat(text)
        except ValueError as exc:
            raise FhirError(400, f"Not a date: {text}") from exc
        if prefix == "ne":
            return ~Q(**{column: day})
        lookup = {"eq": "", "gt": "__gt", "lt": "__lt", "ge": "__gte", "le": "__lte"}[prefix]
        return Q(**{column + lookup: day})

    return build


def _token(column: str, system: str) -> Callable[[str], Q]:
    """`[system|]code`; a system other than ours finds nothing."""

    def build(value: str) -> Q:
        wanted_system, bar, code = value.rpartition("|")
        if bar and wanted_system and wanted_system != system:
            return Q(pk__in=[])
        return Q(**{column: code}) if code else Q()

    return build


def _public_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _patient_param(column: str) -> Callable[[str], Q]:
    def build(value: str) -> Q:
        public_id = _public_uuid(value.removeprefix("Patient/"))
        if public_id is None:
            return Q(pk__in=[])
        return Q(**{f"{column}__public_id": public_id})

    return build


def _patient_id(value: str) -> Q:
    public_id = _public_uuid(value)
    return Q(public_id=public_id) if public_id else Q(pk__in=[])


def _int_id(value: str) -> Q:
    return Q(pk=int(value)) if value.isascii() and value.isdigit() and len(value) < 19 else Q(pk__in=[])


def _contains(column: str) -> Callable[[str], Q]:
    return lambda value: Q(**{f"{column}__istartswith": value})


def _org_param(column: str) -> Callable[[str], Q]:
    return lambda value: Q(**{f"{column}__code": value.removeprefix("Organization/")})


# --- the types ---------------------------------------------------------------------------------


def _patients(permission: Permission) -> Callable[[Membership], QuerySet]:
    return lambda by: visible_patients(by, permission)


def _visible(by: Membership, permission: Permission, column: str = "patient_id") -> Exists:
    """Rows whose patient the membership may see. A correlated EXISTS rather than IN: the database
    starts from the rows a search selects (e.g. by code and date) and checks each one's patient,
    instead of first listing every visible patient (seconds at ICB scale)."""
    return Exists(visible_patients(by, permission).filter(pk=OuterRef(column)))


def _of_visible(model: type[Model], permission: Permission) -> Callable:
    def rows(by: Membership) -> QuerySet:
        return model.objects.filter(_visible(by, permission))  # type: ignore[attr-defined]

    return rows


def _all_conditions() -> QuerySet:
    return ClinicalEvent.objects.filter(code__in=CODES.any_mh)


def _all_observations() -> QuerySet:
    return ClinicalEvent.objects.exclude(code__in=CODES.any_mh)


def _conditions(by: Membership) -> QuerySet:
    return _all_conditions().filter(_visible(by, Permission.PATIENT_VIEW_CLINICAL))


def _observations(by: Membership) -> QuerySet:
    return _all_observations().filter(_visible(by, Permission.PATIENT_VIEW_CLINICAL))


def _staff_only(by: Membership) -> bool:
    return by.is_active


def _organisations(by: Membership) -> QuerySet | None:
    return Organisation.objects.select_related("parent") if _staff_only(by) else None


def _practitioners(by: Membership) -> QuerySet | None:
    # Staff of any organisation (names only); system users of API clients are not people.
    return User.objects.filter(memberships__isnull=False, memberships__api_client__isnull=True).distinct()


def _practitioner_roles(by: Membership) -> QuerySet | None:
    return Membership.objects.filter(api_client__isnull=True).select_related("user", "organisation")


def _audit_events(by: Membership) -> QuerySet | None:
    return AuditEvent.objects.all() if has_permission(by, Permission.AUDIT_VIEW) else None


def _service_request(by: Membership, referral: Referral) -> dict[str, Any]:
    return mappers.service_request_to_fhir(referral, clinical_detail=may_read_clinical_detail(by, referral))


def _practitioner_param(value: str) -> Q:
    user_id = value.removeprefix("Practitioner/")
    return Q(user_id=int(user_id)) if user_id.isascii() and user_id.isdigit() and len(user_id) < 19 else Q(pk__in=[])


def _audit_patient(value: str) -> Q:
    public_id = _public_uuid(value.removeprefix("Patient/"))
    if public_id is None:
        return Q(pk__in=[])
    return Q(patient_id__in=Patient.objects.filter(public_id=public_id).values("pk"))


DEMOGRAPHICS = Permission.PATIENT_VIEW_DEMOGRAPHICS
CLINICAL = Permission.PATIENT_VIEW_CLINICAL


def _nhs_identifier(value: str) -> Q:
    system, bar, number = value.rpartition("|")
    if bar and system and system != NHS_NUMBER:
        return Q(pk__in=[])
    return Q(nhs_number=number.replace(" ", ""))


TYPES: dict[str, ResourceType] = {
    t.name: t
    for t in [
        ResourceType(
            "Patient",
            _patients(DEMOGRAPHICS),
            lambda by, p: mappers.patient_to_fhir(p),
            _patient_id,
            {
                "identifier": _nhs_identifier,
                "family": _contains("family_name"),
                "given": _contains("given_name"),
                "birthdate": _date_filter("date_of_birth"),
                "gender": lambda v: Q(sex=mappers.SEX_OF_GENDER.get(v, "?")),
                "_id": _patient_id,
            },
            patient_of=lambda p: p,
            order=("family_name", "given_name", "pk"),
            permission=DEMOGRAPHICS,
            interactions=("read", "search-type", "create", "update"),
        ),
        ResourceType(
            "Observation",
            _observations,
            lambda by, e: mappers.observation_to_fhir(e),
            _int_id,
            {
                "patient": _patient_param("patient"),
                "subject": _patient_param("patient"),
                "code": _token("code", SNOMED),
                "date": _date_filter("date"),
            },
            patient_of=lambda e: e.patient,
            order=("-date", "-pk"),
            select=("patient", "source_organisation"),
            permission=CLINICAL,
            interactions=("read", "search-type", "create"),
            unscoped=_all_observations,
        ),
        ResourceType(
            "Condition",
            _conditions,
            lambda by, e: mappers.condition_to_fhir(e),
            _int_id,
            {
                "patient": _patient_param("patient"),
                "subject": _patient_param("patient"),
                "code": _token("code", SNOMED),
                "onset-date": _date_filter("date"),
            },
            patient_of=lambda e: e.patient,
            order=("-date", "-pk"),
            select=("patient", "source_organisation"),
            permission=CLINICAL,
            interactions=("read", "search-type", "create"),
            unscoped=_all_conditions,
        ),
        ResourceType(
            "MedicationStatement",
            _of_visible(MedicationIssue, CLINICAL),
            lambda by, i: mappers.medication_statement_to_fhir(i),
            _int_id,
            {
                "patient": _patient_param("patient"),
                "subject": _patient_param("patient"),
                "code": _token("code", DMD),
                "effective": _date_filter("date"),
            },
            patient_of=lambda i: i.patient,
            order=("-date", "-pk"),
            select=("patient", "source_organisation"),
            permission=CLINICAL,
            interactions=("read", "search-type", "create"),
            unscoped=MedicationIssue.objects.all,
        ),
        ResourceType(
            "Organization",
            _organisations,
            lambda by, o: mappers.organisation_to_fhir(o),
            lambda id_: Q(code=id_),
            {
                "identifier": _token("code", ODS_CODE),
                "name": lambda v: Q(name__icontains=v),
                "type": lambda v: Q(kind=v.rpartition("|")[2]),
                "partof": _org_param("parent"),
            },
            order=("code",),
        ),
        ResourceType(
            "Practitioner",
            _practitioners,
            lambda by, u: mappers.practitioner_to_fhir(u),
            _int_id,
            {"family": _contains("last_name"), "given": _contains("first_name")},
            order=("last_name", "first_name", "pk"),
        ),
        ResourceType(
            "PractitionerRole",
            _practitioner_roles,
            lambda by, m: mappers.practitioner_role_to_fhir(m),
            _int_id,
            {
                "organization": _org_param("organisation"),
                "practitioner": _practitioner_param,
                "role": lambda v: Q(role=v.rpartition("|")[2]),
            },
            order=("organisation__code", "role", "pk"),
        ),
        ResourceType(
            "CareTeam",
            _of_visible(CareTeamEntry, DEMOGRAPHICS),
            lambda by, c: mappers.care_team_to_fhir(c),
            _int_id,
            {
                "patient": _patient_param("patient"),
                "subject": _patient_param("patient"),
                "status": lambda v: Q(end__isnull=v == "active"),
            },
            patient_of=lambda c: c.patient,
            order=("-start", "-pk"),
            select=("patient", "organisation"),
            permission=DEMOGRAPHICS,
            unscoped=CareTeamEntry.objects.all,
        ),
        ResourceType(
            "EpisodeOfCare",
            _of_visible(Episode, DEMOGRAPHICS),
            lambda by, e: mappers.episode_to_fhir(e),
            _int_id,
            {
                "patient": _patient_param("patient"),
                "organization": _org_param("team"),
                "status": lambda v: Q(closed_on__isnull=v == "active"),
            },
            patient_of=lambda e: e.patient,
            order=("-opened_on", "-pk"),
            select=("patient", "team"),
            permission=DEMOGRAPHICS,
            unscoped=Episode.objects.all,
        ),
        ResourceType(
            "ServiceRequest",
            _of_visible(Referral, DEMOGRAPHICS),
            _service_request,
            _int_id,
            {
                "patient": _patient_param("patient"),
                "subject": _patient_param("patient"),
                "performer": _org_param("destination"),
                "authored": _date_filter("received_on"),
            },
            patient_of=lambda r: r.patient,
            order=("-created_at", "-pk"),
            select=("patient", "destination", "referrer__organisation"),
            permission=DEMOGRAPHICS,
            unscoped=Referral.objects.all,
        ),
        ResourceType(
            "Task",
            _of_visible(Referral, DEMOGRAPHICS),
            lambda by, r: mappers.task_to_fhir(r),
            _int_id,
            {
                "patient": _patient_param("patient"),
                "owner": _org_param("destination"),
                "business-status": lambda v: Q(status=v.rpartition("|")[2]),
            },
            patient_of=lambda r: r.patient,
            order=("-created_at", "-pk"),
            select=("patient", "destination"),
            permission=DEMOGRAPHICS,
            unscoped=Referral.objects.all,
            interactions=("read", "search-type", "update"),
        ),
        ResourceType(
            "Consent",
            _of_visible(Consent, DEMOGRAPHICS),
            lambda by, c: mappers.consent_to_fhir(c),
            _int_id,
            {"patient": _patient_param("patient")},
            patient_of=lambda c: c.patient,
            order=("-recorded_at", "-pk"),
            select=("patient",),
            permission=DEMOGRAPHICS,
            unscoped=Consent.objects.all,
        ),
        ResourceType(
            "AuditEvent",
            _audit_events,
            lambda by, a: mappers.audit_event_to_fhir(a),
            _int_id,
            {
                "date": _date_filter("at__date"),
                "patient": _audit_patient,
                "agent-name": lambda v: Q(username=v),
                "action": lambda v: Q(action=v),
            },
            order=("-at", "-pk"),
        ),
    ]
}


# --- care plans, goals, questionnaires and responses, directory services ------------------------


def _latest_plans() -> QuerySet:
    newer = PlanVersion.objects.filter(
        patient=OuterRef("patient"), kind=OuterRef("kind"), number__gt=OuterRef("number")
    )
    return PlanVersion.objects.exclude(Exists(newer))


def _plans(by: Membership) -> QuerySet:
    return _latest_plans().filter(_visible(by, Permission.PATIENT_CAREPLAN_VIEW))


def _plan_id(value: str) -> Q:
    kind, _, rest = value.partition("-")
    public_id = _public_uuid(rest)
    if kind not in ("care", "crisis") or public_id is None:
        return Q(pk__in=[])
    return Q(kind=kind, patient__public_id=public_id)


def _goal_plan(by: Membership, patient_public_id: uuid.UUID):
    return _plans(by).filter(kind="care", patient__public_id=patient_public_id).select_related("patient").first()


def _read_goal(by: Membership, id_: str) -> dict[str, Any]:
    public_id, _, number = id_.rpartition("-")
    patient_id = _public_uuid(public_id)
    plan = _goal_plan(by, patient_id) if patient_id and number.isdigit() else None
    goals = mappers.goals_to_fhir(plan) if plan is not None else []
    if plan is None or not 1 <= (int(number) if number.isdigit() else 0) <= len(goals):
        audit.record(by=by, action=AuditAction.DENIED, what="fhir_goal", detail={"id": id_[:64]})
        raise not_found("Goal")
    audit.record(by=by, action=AuditAction.VIEW, what="fhir_goal", patient=plan.patient, detail={"id": id_})
    return goals[int(number) - 1]


def _search_goals(by: Membership, params: Params) -> list[dict[str, Any]]:
    unknown = set(params) - {"patient", "subject"}
    if unknown:
        raise FhirError(400, f"Goal cannot be searched by {', '.join(sorted(unknown))}", code="not-supported")
    named = params.get("patient", []) + params.get("subject", [])
    if not named:
        raise FhirError(400, "Search goals by patient (goals live in each patient's care plan)", code="required")
    found: list[dict[str, Any]] = []
    patient_ids: list[int] = []
    for value in named:
        patient_id = _public_uuid(value.removeprefix("Patient/"))
        plan = _goal_plan(by, patient_id) if patient_id else None
        if plan is not None:
            found += mappers.goals_to_fhir(plan)
            patient_ids.append(plan.patient_id)
    audit.record(by=by, action=AuditAction.SEARCH, what="fhir_goal_search", detail={"patient_ids": patient_ids})
    return found


def _read_questionnaire(by: Membership, id_: str) -> dict[str, Any]:
    questionnaire = questionnaire_definitions.all_questionnaires().get(id_)
    if questionnaire is None:
        raise not_found("Questionnaire")
    return mappers.questionnaire_to_fhir(questionnaire)


def _search_questionnaires(by: Membership, params: Params) -> list[dict[str, Any]]:
    unknown = set(params) - {"url", "name", "_id"}
    if unknown:
        raise FhirError(400, f"Questionnaire cannot be searched by {', '.join(sorted(unknown))}", code="not-supported")
    found = []
    for key, questionnaire in sorted(questionnaire_definitions.all_questionnaires().items()):
        if any(questionnaire.url != v.partition("|")[0] for v in params.get("url", [])):
            continue
        if any(v.lower() not in questionnaire.title.lower() for v in params.get("name", [])):
            continue
        if any(key != v for v in params.get("_id", [])):
            continue
        found.append(mappers.questionnaire_to_fhir(questionnaire))
    return found


def _directory_services(by: Membership) -> QuerySet | None:
    # The community directory is public information: any member may read it.
    return Service.objects.select_related("organisation__organisation").prefetch_related("terms")


MORE_TYPES = [
    ResourceType(
        "CarePlan",
        _plans,
        lambda by, v: mappers.care_plan_to_fhir(v),
        _plan_id,
        {
            "patient": _patient_param("patient"),
            "subject": _patient_param("patient"),
            "category": lambda v: Q(kind=v.rpartition("|")[2]),
            "status": lambda v: Q(status="agreed" if v == "active" else "draft" if v == "draft" else "?"),
        },
        patient_of=lambda v: v.patient,
        order=("patient_id", "kind"),
        select=("patient",),
        permission=Permission.PATIENT_CAREPLAN_VIEW,
        unscoped=_latest_plans,
    ),
    ResourceType(
        "Goal",
        lambda by: None,
        lambda by, row: row,
        _patient_id,
        {"patient": _patient_param("patient"), "subject": _patient_param("patient")},
        virtual_read=_read_goal,
        virtual_search=_search_goals,
    ),
    ResourceType(
        "Questionnaire",
        lambda by: None,
        lambda by, row: row,
        _patient_id,
        {"url": lambda v: Q(), "name": lambda v: Q(), "_id": lambda v: Q()},
        virtual_read=_read_questionnaire,
        virtual_search=_search_questionnaires,
    ),
    ResourceType(
        "QuestionnaireResponse",
        _of_visible(QuestionnaireResponse, CLINICAL),
        lambda by, r: mappers.questionnaire_response_to_fhir(r),
        _int_id,
        {
            "patient": _patient_param("patient"),
            "subject": _patient_param("patient"),
            "questionnaire": lambda v: Q(questionnaire_url=v.partition("|")[0]),
            "authored": _date_filter("completed_on"),
        },
        patient_of=lambda r: r.patient,
        order=("-completed_on", "-pk"),
        select=("patient",),
        permission=CLINICAL,
        unscoped=QuestionnaireResponse.objects.all,
    ),
    ResourceType(
        "HealthcareService",
        _directory_services,
        lambda by, s: mappers.healthcare_service_to_fhir(s),
        lambda id_: Q(oruk_id=id_),
        {
            "name": lambda v: Q(name__icontains=v),
            "active": lambda v: Q(status="active") if v == "true" else ~Q(status="active"),
            "organization": lambda v: Q(organisation__organisation__code=v.removeprefix("Organization/")),
        },
        order=("name", "pk"),
        select=("organisation__organisation",),
    ),
]
TYPES.update({t.name: t for t in MORE_TYPES})


def get_type(name: str) -> ResourceType:
    resource_type = TYPES.get(name)
    if resource_type is None:
        raise FhirError(404, f"Resource type {name} is not supported here", code="not-supported")
    return resource_type


def _rows_or_refuse(resource_type: ResourceType, by: Membership) -> QuerySet:
    rows = resource_type.rows(by)
    if rows is None:
        raise FhirError(403, f"Your role cannot read {resource_type.name} resources", code="forbidden")
    return rows


def read(*, resource_type: ResourceType, id_: str, by: Membership) -> tuple[Any, dict[str, Any]]:
    """The row and its resource, audited; a row the caller may not see is 404 and audited as denied."""
    if resource_type.virtual_read is not None:
        resource = resource_type.virtual_read(by, id_)
        return resource, resource
    rows = _rows_or_refuse(resource_type, by)
    if resource_type.select:
        rows = rows.select_related(*resource_type.select)
    row = rows.filter(resource_type.lookup(id_)).first()
    what = f"fhir_{resource_type.name.lower()}"
    if row is None:
        if resource_type.permission is not None:
            audit.record(
                by=by,
                action=AuditAction.DENIED,
                what=what,
                detail={"id": id_[:64], "permission": str(resource_type.permission)},
            )
        raise not_found(resource_type.name)
    resource = resource_type.to_fhir(by, row)
    patient = resource_type.patient_of(row)
    if patient is not None or resource_type.name == "AuditEvent":
        audit.record(by=by, action=AuditAction.VIEW, what=what, patient=patient, detail={"id": resource["id"]})
    return row, resource


@dataclass(frozen=True)
class SearchResult:
    resources: list[dict[str, Any]]
    total: int | None  # None when the caller asked not to count (_total=none)
    more: bool


def _named_patients(resource_type: ResourceType, params: Params, by: Membership) -> QuerySet | None:
    """Rows of the patients a search names (patient=/subject=), scoped through the policy by
    resolving those patients first; None when the search names no patient."""
    named = params.get("patient", []) + params.get("subject", [])
    if resource_type.unscoped is None or resource_type.permission is None or not named:
        return None
    public_ids = [u for value in named if (u := _public_uuid(value.removeprefix("Patient/")))]
    visible = visible_patients(by, resource_type.permission).filter(public_id__in=public_ids)
    return resource_type.unscoped().filter(patient_id__in=list(visible.values_list("pk", flat=True)))


# Searches that name their patients: counting their matches is cheap, so `total` is given unless
# the caller says otherwise. Across a whole practice or PCN the count costs seconds at a million
# patients (every matching row's patient checked against the policy), so it is left out unless the
# caller asks for it with `_total=accurate`; paging works either way.
NAMING_PATIENTS = {"patient", "subject", "identifier", "_id"}


def search(
    *,
    resource_type: ResourceType,
    params: Params,
    offset: int,
    count: int,
    by: Membership,
    with_total: bool | None = None,
) -> SearchResult:
    if resource_type.virtual_search is not None:
        everything = resource_type.virtual_search(by, params)
        return SearchResult(everything[offset : offset + count], len(everything), offset + count < len(everything))
    rows = _rows_or_refuse(resource_type, by)
    named = _named_patients(resource_type, params, by)
    if named is not None:
        rows = named
    for name, values in params.items():
        build = resource_type.search_params.get(name)
        if build is None:
            raise FhirError(400, f"{resource_type.name} cannot be searched by {name!r}", code="not-supported")
        for value in values:  # repeated parameters AND together, as in FHIR
            rows = rows.filter(build(value))
    if with_total is None:
        with_total = resource_type.permission is None or bool(NAMING_PATIENTS & set(params))
    # One row more than the page says whether there is a next page, counted or not.
    total = rows.count() if with_total else None
    page = list(rows.select_related(*resource_type.select).order_by(*resource_type.order)[offset : offset + count + 1])
    more = len(page) > count
    page = page[:count]
    resources = [resource_type.to_fhir(by, row) for row in page]
    patient_ids = sorted({p.pk for row in page if (p := resource_type.patient_of(row)) is not None})
    if resource_type.permission is not None or resource_type.name == "AuditEvent":
        audit.record(
            by=by,
            action=AuditAction.SEARCH,
            what=f"fhir_{resource_type.name.lower()}_search",
            detail={"params": {k: v for k, v in params.items() if k != "identifier"}, "patient_ids": patient_ids},
        )
    return SearchResult(resources, total, more)
