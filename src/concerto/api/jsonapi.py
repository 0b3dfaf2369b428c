"""The JSON API (Django Ninja): OpenAPI at /api/openapi.json, docs at /api/docs.

Two ways in, both ending at a Membership that every endpoint passes as `by=` to the apps'
selectors and actions (so the one access policy and its audit apply):
- the browser's session (the membership chosen at log-in), with Django's CSRF check on changes;
- a system's bearer key (per-organisation client credentials, `concerto.api.credentials`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.conf import settings
from django.http import Http404, HttpRequest
from ninja import Field, NinjaAPI, Query, Schema
from ninja.responses import Status
from ninja.security import APIKeyCookie, HttpBearer

from concerto.access.models import Membership
from concerto.access.permissions import Permission
from concerto.access.selectors import get_patient
from concerto.api.credentials import membership_for_key
from concerto.core.errors import InvalidInput, NotPermitted
from concerto.organisations.models import Organisation
from concerto.people import selectors as people
from concerto.records import selectors as records
from concerto.records.actions import record_clinical_event
from concerto.referrals import selectors as referrals


class SessionMembership(APIKeyCookie):
    """The logged-in member's chosen membership. APIKeyCookie checks CSRF on unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> Membership | None:
        if request.user.is_authenticated:
            return getattr(request, "membership", None)
        return None


class ClientKey(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Membership | None:
        membership = membership_for_key(token)
        if membership is not None:
            request.membership = membership  # type: ignore[attr-defined]
        return membership


api = NinjaAPI(
    title="Concerto API",
    version="1",
    description="Staff and system access to Concerto through the same access policy and audit. "
    "See docs/api.md; the FHIR R4 facade is at /fhir.",
    auth=[ClientKey(), SessionMembership()],
    urls_namespace="api:json",
)


@api.exception_handler(InvalidInput)
def invalid_input(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=422)


@api.exception_handler(NotPermitted)
def not_permitted(request, exc):
    # Patient data the caller may not touch looks like none at all.
    return api.create_response(request, {"detail": "Not found"}, status=404)


def _by(request: HttpRequest) -> Membership:
    return request.auth  # type: ignore[attr-defined]


class Me(Schema):
    username: str
    organisation_code: str
    organisation_name: str
    role: str
    permissions: list[str]


class PatientOut(Schema):
    id: uuid.UUID  # the public id: database keys never leave the service
    nhs_number: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    sex: str

    @staticmethod
    def resolve_id(patient) -> uuid.UUID:
        return patient.public_id


class EventOut(Schema):
    date: dt.date
    code: str
    term: str
    value: Decimal | None
    unit: str
    source: str


class EventIn(Schema):
    code: str = Field(pattern=r"^[0-9]{6,18}$", description="SNOMED CT concept id")
    date: dt.date
    value: Decimal | None = Field(default=None, max_digits=10, decimal_places=2)
    unit: str = Field(default="", max_length=20)


class EventCreated(Schema):
    id: int


class ReferralOut(Schema):
    id: int
    pathway: str
    destination: str
    status: str
    received_on: dt.date
    waiting_days: int


class OrganisationOut(Schema):
    code: str
    name: str
    kind: str
    parent: str | None


class Problem(Schema):
    detail: str


def _patient(request: HttpRequest, patient_id: uuid.UUID, permission: Permission, what: str):
    return get_patient(by=_by(request), public_id=patient_id, permission=permission, what=what)


@api.get("/me", response=Me, summary="Who the caller is acting as")
def me(request):
    by = _by(request)
    role = by.role_definition
    return Me(
        username=by.user.username,
        organisation_code=by.organisation.code,
        organisation_name=by.organisation.name,
        role=role.key,
        permissions=sorted(str(p) for p in role.permissions),
    )


@api.get(
    "/patients", response=list[PatientOut], summary="Search patients (NHS number, or name words and/or birth date)"
)
def search_patients(request, q: str = Query("", max_length=100), date_of_birth: dt.date | None = None):
    return people.search_patients(by=_by(request), text=q, date_of_birth=date_of_birth)


@api.get("/patients/{patient_id}", response={200: PatientOut, 404: Problem})
def patient(request, patient_id: uuid.UUID):
    try:
        return _patient(request, patient_id, Permission.PATIENT_VIEW_DEMOGRAPHICS, "api_patient")
    except Http404:
        return Status(404, {"detail": "Not found"})


@api.get("/patients/{patient_id}/events", response={200: list[EventOut], 404: Problem})
def patient_events(request, patient_id: uuid.UUID, limit: int = Query(20, ge=1, le=100)):
    try:
        patient = _patient(request, patient_id, Permission.PATIENT_VIEW_CLINICAL, "api_clinical_events")
    except Http404:
        return Status(404, {"detail": "Not found"})
    return [EventOut(**row.__dict__) for row in records.recent_events(by=_by(request), patient=patient, limit=limit)]


@api.post("/patients/{patient_id}/events", response={201: EventCreated, 404: Problem, 422: Problem})
def add_patient_event(request, patient_id: uuid.UUID, event: EventIn):
    try:
        patient = _patient(request, patient_id, Permission.PATIENT_RECORD_CLINICAL, "api_record_event")
    except Http404:
        return Status(404, {"detail": "Not found"})
    created = record_clinical_event(
        patient=patient,
        code=event.code,
        date=event.date,
        value=event.value,
        unit=event.unit if event.value is not None else "",
        by=_by(request),
    )
    return Status(201, {"id": created.pk})


@api.get("/patients/{patient_id}/referrals", response={200: list[ReferralOut], 404: Problem})
def patient_referrals(request, patient_id: uuid.UUID):
    try:
        patient = _patient(request, patient_id, Permission.PATIENT_VIEW_DEMOGRAPHICS, "api_referrals")
    except Http404:
        return Status(404, {"detail": "Not found"})
    return [
        ReferralOut(
            id=r.pk,
            pathway=r.pathway,
            destination=r.destination.code,
            status=r.status,
            received_on=r.received_on,
            waiting_days=clock.days,
        )
        for r, clock in referrals.for_patient(by=_by(request), patient=patient)
    ]


@api.get("/organisations", response=list[OrganisationOut], summary="Reference data: organisations (ODS codes)")
def organisations(request, kind: str = Query("", max_length=20)):
    rows = Organisation.objects.select_related("parent").order_by("code")
    if kind:
        rows = rows.filter(kind=kind)
    return [
        OrganisationOut(code=o.code, name=o.name, kind=o.kind, parent=o.parent.code if o.parent else None)
        for o in rows[:500]
    ]
