"""The FHIR R4 facade through Django's test client: read, search and paging, versioned updates,
metadata, errors as OperationOutcome, cross-organisation 404s, audit."""

import datetime as dt
from decimal import Decimal

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient

from concerto.access.models import AuditEvent
from concerto.api.actions import create_api_client
from concerto.api.fhir import mappers
from concerto.api.fhir.http import FHIR_JSON, MAX_COUNT, NHS_NUMBER
from concerto.records.actions import record_clinical_event
from tests.fixtures import client_as

BMI = "60621009"


@pytest.fixture
def gp_system(universe):
    """The N1 practice's GP system, acting as a GP there."""
    return create_api_client(name="N1 GP system", organisation=universe.practice_n1, role="gp", by=None)


def bearer(issued):
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.key}"}


def get(client, url, issued=None, **extra):
    return client.get(url, **(bearer(issued) if issued else {}), **extra)


def assert_outcome(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == FHIR_JSON
    OperationOutcome.model_validate(response.json())


def test_patient_read_is_valid_r4_with_uk_core_identifier_and_etag(client, universe, gp_system):
    response = get(client, f"/fhir/Patient/{universe.alice.public_id}", gp_system)
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON
    patient = FhirPatient.model_validate(response.json())
    assert patient.identifier[0].system == NHS_NUMBER
    assert patient.identifier[0].value == universe.alice.nhs_number
    assert response["ETag"] == f'W/"{patient.meta.versionId}"'
    assert patient.generalPractitioner[0].identifier.value == universe.practice_n1.code


def test_read_is_audited_with_the_client_membership(client, universe, gp_system):
    get(client, f"/fhir/Patient/{universe.alice.public_id}", gp_system)
    event = AuditEvent.objects.filter(what="fhir_patient").latest("id")
    assert event.patient_id == universe.alice.pk
    assert event.membership_id == gp_system.client.membership_id
    assert event.action == "view"


def test_cross_organisation_read_is_404_like_a_missing_one_and_audited_as_denied(client, universe, gp_system):
    # Carol is registered in the south PCN: the north practice's system has no relationship.
    hidden = get(client, f"/fhir/Patient/{universe.carol.public_id}", gp_system)
    missing = get(client, "/fhir/Patient/00000000-0000-4000-8000-000000000000", gp_system)
    assert_outcome(hidden, 404)
    assert_outcome(missing, 404)
    assert hidden.json() == missing.json()
    assert AuditEvent.objects.filter(what="fhir_patient", action="denied").count() == 2


def test_cross_organisation_observation_read_is_404(client, universe, gp_system):
    event = record_clinical_event(
        patient=universe.carol,
        code=BMI,
        date=dt.date(2024, 1, 1),
        value=Decimal(30),
        unit="kg/m2",
        by=universe.m("gp_s1"),
    )
    assert_outcome(get(client, f"/fhir/Observation/{event.pk}", gp_system), 404)
    south = create_api_client(name="S1", organisation=universe.practice_s1, role="gp", by=None)
    assert get(client, f"/fhir/Observation/{event.pk}", south).status_code == 200


def test_no_credentials_or_a_wrong_secret_is_401(client, universe, gp_system):
    assert_outcome(client.get(f"/fhir/Patient/{universe.alice.public_id}"), 401)
    wrong = {"HTTP_AUTHORIZATION": f"Bearer {gp_system.client.client_id}.not-the-secret"}
    response = client.get(f"/fhir/Patient/{universe.alice.public_id}", **wrong)
    assert_outcome(response, 401)


def test_the_secret_is_not_stored(universe, gp_system):
    secret = gp_system.key.split(".", 1)[1]
    gp_system.client.refresh_from_db()
    assert secret not in gp_system.client.secret_hash


def test_session_read_works_in_the_browser(universe):
    response = client_as(universe.m("gp_n1")).get(f"/fhir/Patient/{universe.alice.public_id}")
    assert response.status_code == 200


def test_search_patient_by_nhs_number_identifier(client, universe, gp_system):
    response = get(client, f"/fhir/Patient?identifier={NHS_NUMBER}|{universe.alice.nhs_number}", gp_system)
    bundle = Bundle.model_validate(response.json())
    assert bundle.type == "searchset"
    assert bundle.total == 1
    assert bundle.entry[0].resource.id == str(universe.alice.public_id)
    # Carol exists but is not visible to N1: the same search finds nothing.
    response = get(client, f"/fhir/Patient?identifier={NHS_NUMBER}|{universe.carol.nhs_number}", gp_system)
    assert response.json()["total"] == 0


def test_observation_search_by_patient_code_and_date_with_paging(client, universe, gp_system):
    gp = universe.m("gp_n1")
    for day in range(1, 8):
        record_clinical_event(
            patient=universe.alice, code=BMI, date=dt.date(2024, 1, day), value=Decimal(20 + day), unit="kg/m2", by=gp
        )
    record_clinical_event(patient=universe.alice, code="78564009", date=dt.date(2024, 1, 3), value=Decimal(70), by=gp)
    url = f"/fhir/Observation?patient={universe.alice.public_id}&code=http://snomed.info/sct|{BMI}&date=ge2024-01-03"
    first = get(client, url + "&_count=2", gp_system).json()
    assert first["total"] == 5
    assert [e["resource"]["effectiveDateTime"] for e in first["entry"]] == ["2024-01-07", "2024-01-06"]
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "previous" not in links
    second = get(client, links["next"].removeprefix("http://testserver"), gp_system).json()
    assert [e["resource"]["effectiveDateTime"] for e in second["entry"]] == ["2024-01-05", "2024-01-04"]
    assert {link["relation"] for link in second["link"]} >= {"next", "previous"}
    audit = AuditEvent.objects.filter(what="fhir_observation_search").latest("id")
    assert audit.detail["patient_ids"] == [universe.alice.pk]


def test_practice_wide_searches_are_not_counted_unless_asked_but_still_page(client, universe, gp_system):
    gp = universe.m("gp_n1")
    for day in range(1, 4):
        record_clinical_event(
            patient=universe.alice, code=BMI, date=dt.date(2024, 2, day), value=Decimal(25), unit="kg/m2", by=gp
        )
    first = get(client, f"/fhir/Observation?code={BMI}&_count=2", gp_system).json()
    assert "total" not in first
    counted = get(client, f"/fhir/Observation?code={BMI}&_count=2&_total=accurate", gp_system).json()
    assert counted["total"] == 3
    named = get(client, f"/fhir/Observation?patient={universe.alice.public_id}&_count=2&_total=none", gp_system)
    assert "total" not in named.json()
    assert len(first["entry"]) == 2
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    last = get(client, next_url.removeprefix("http://testserver"), gp_system).json()
    assert len(last["entry"]) == 1
    assert "next" not in {link["relation"] for link in last["link"]}


def test_count_is_capped(client, universe, gp_system):
    response = get(client, f"/fhir/Organization?_count={MAX_COUNT * 10}", gp_system).json()
    self_link = next(link["url"] for link in response["link"] if link["relation"] == "self")
    assert f"_count={MAX_COUNT}" in self_link


def test_unknown_search_parameter_is_refused_not_ignored(client, universe, gp_system):
    assert_outcome(get(client, "/fhir/Patient?favourite-colour=blue", gp_system), 400)


def test_bad_date_search_is_400(client, universe, gp_system):
    assert_outcome(get(client, "/fhir/Observation?date=yesterday", gp_system), 400)


def test_unknown_resource_type_is_404_outcome(client, universe, gp_system):
    assert_outcome(get(client, "/fhir/Spaceship", gp_system), 404)


def test_metadata_is_a_valid_capability_statement_naming_every_type(client):
    response = client.get("/fhir/metadata")
    statement = CapabilityStatement.model_validate(response.json())
    types = {r.type for r in statement.rest[0].resource}
    assert {"Patient", "Observation", "Condition", "MedicationStatement", "Organization", "AuditEvent"} <= types
    assert statement.fhirVersion == "4.0.1"


def _alice_resource(client, universe, issued):
    response = get(client, f"/fhir/Patient/{universe.alice.public_id}", issued)
    return response.json(), response["ETag"]


def put(client, url, body, issued, **headers):
    return client.put(url, body, content_type=FHIR_JSON, **bearer(issued), **headers)


def test_update_with_the_current_etag_changes_the_patient_and_the_etag(client, universe, gp_system):
    resource, tag = _alice_resource(client, universe, gp_system)
    resource["name"][0]["family"] = "Ashworth-Lee"
    response = put(client, f"/fhir/Patient/{universe.alice.public_id}", resource, gp_system, HTTP_IF_MATCH=tag)
    assert response.status_code == 200, response.content
    assert response["ETag"] != tag
    universe.alice.refresh_from_db()
    assert universe.alice.family_name == "Ashworth-Lee"
    assert AuditEvent.objects.filter(what="patient_details", patient_id=universe.alice.pk, action="update").exists()


def test_update_with_an_old_etag_is_412_and_changes_nothing(client, universe, gp_system):
    resource, tag = _alice_resource(client, universe, gp_system)
    resource["name"][0]["family"] = "First"
    first = put(client, f"/fhir/Patient/{universe.alice.public_id}", resource, gp_system, HTTP_IF_MATCH=tag)
    assert first.status_code == 200
    resource["name"][0]["family"] = "Second"
    response = put(client, f"/fhir/Patient/{universe.alice.public_id}", resource, gp_system, HTTP_IF_MATCH=tag)
    assert_outcome(response, 412)
    universe.alice.refresh_from_db()
    assert universe.alice.family_name == "First"


def test_update_without_if_match_is_428(client, universe, gp_system):
    resource, _ = _alice_resource(client, universe, gp_system)
    resource["name"][0]["family"] = "Nope"
    assert_outcome(put(client, f"/fhir/Patient/{universe.alice.public_id}", resource, gp_system), 428)
    universe.alice.refresh_from_db()
    assert universe.alice.family_name == "Ashworth"


def test_update_of_a_patient_of_another_organisation_is_404(client, universe, gp_system):
    resource, tag = _alice_resource(client, universe, gp_system)
    resource["id"] = str(universe.carol.public_id)
    response = put(client, f"/fhir/Patient/{universe.carol.public_id}", resource, gp_system, HTTP_IF_MATCH=tag)
    assert_outcome(response, 404)


def test_session_update_needs_the_csrf_token(universe):
    client = client_as(universe.m("gp_n1"))
    client.handler.enforce_csrf_checks = True
    resource = client.get(f"/fhir/Patient/{universe.alice.public_id}")
    body = resource.json()
    response = client.put(
        f"/fhir/Patient/{universe.alice.public_id}", body, content_type=FHIR_JSON, HTTP_IF_MATCH=resource["ETag"]
    )
    assert_outcome(response, 403)


def test_create_observation_then_read_it(client, universe, gp_system):
    body = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": BMI}]},
        "subject": {"reference": f"Patient/{universe.alice.public_id}"},
        "effectiveDateTime": "2024-02-01",
        "valueQuantity": {"value": 27.5, "unit": "kg/m2"},
    }
    response = client.post("/fhir/Observation", body, content_type=FHIR_JSON, **bearer(gp_system))
    assert response.status_code == 201, response.content
    location = response["Location"].removeprefix("http://testserver")
    read = get(client, location, gp_system).json()
    assert read["valueQuantity"]["value"] == 27.5


def test_invalid_resource_is_400_outcome(client, universe, gp_system):
    body = {"resourceType": "Observation", "status": "final", "code": "not-a-concept", "valueQuantity": 3}
    assert_outcome(client.post("/fhir/Observation", body, content_type=FHIR_JSON, **bearer(gp_system)), 400)


def test_wrong_content_type_is_415(client, universe, gp_system):
    assert_outcome(client.post("/fhir/Observation", "x", content_type="text/plain", **bearer(gp_system)), 415)


@pytest.mark.parametrize(
    "resource_type",
    [
        "Practitioner",
        "PractitionerRole",
        "CareTeam",
        "EpisodeOfCare",
        "ServiceRequest",
        "Task",
        "Consent",
        "Condition",
        "MedicationStatement",
        "CarePlan",
        "QuestionnaireResponse",
        "Questionnaire",
        "HealthcareService",
    ],
)
def test_every_type_searches_to_a_valid_bundle(client, universe, gp_system, resource_type):
    response = get(client, f"/fhir/{resource_type}", gp_system)
    assert response.status_code == 200, response.content
    Bundle.model_validate(response.json())


def test_audit_events_need_the_audit_role(client, universe, gp_system):
    assert_outcome(get(client, "/fhir/AuditEvent", gp_system), 403)
    response = client_as(universe.m("sysadmin")).get("/fhir/AuditEvent?_count=5")
    bundle = Bundle.model_validate(response.json())
    assert bundle.total > 0


# --- concurrency, on PostgreSQL ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_updates_with_the_same_if_match_exactly_one_wins():
    import threading

    from django.db import connection
    from django.test import Client

    from tests.fixtures import Universe

    universe = Universe()
    issued = create_api_client(name="N1 GP system", organisation=universe.practice_n1, role="gp", by=None)
    resource, tag = _alice_resource(Client(), universe, issued)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def update(family):
        try:
            body = {**resource, "name": [{"use": "official", "family": family, "given": ["Alice"]}]}
            barrier.wait(timeout=10)
            response = put(Client(), f"/fhir/Patient/{universe.alice.public_id}", body, issued, HTTP_IF_MATCH=tag)
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=update, args=(name,)) for name in ("Winner-A", "Winner-B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 412]
    universe.alice.refresh_from_db()
    assert universe.alice.family_name in ("Winner-A", "Winner-B")
    assert AuditEvent.objects.filter(what="patient_details", action="update").count() == 1


# --- referral triage through Task, versioned by the referral's own version -----------------------


@pytest.fixture
def referral(universe):
    from concerto.referrals.actions import refer

    return refer(patient=universe.alice, destination=universe.cmht, reason="Low mood", by=universe.m("gp_n1"))


def _task_update(resource, status, note="", owner=None):
    body = {
        **resource,
        "businessStatus": {"coding": [{"system": mappers.CONCERTO_REFERRAL_STATUS, "code": status}]},
        "note": [{"text": note}] if note else [],
    }
    if owner is not None:
        body["owner"] = {"reference": f"PractitionerRole/{owner.pk}"}
    if not body["note"]:
        body.pop("note")
    return body


def test_the_team_triages_and_accepts_through_task_with_if_match(client, universe, referral):
    team = create_api_client(name="CMHT system", organisation=universe.cmht, role="team_manager", by=None)
    read = get(client, f"/fhir/Task/{referral.pk}", team)
    assert read.status_code == 200, read.content
    assert read["ETag"] == 'W/"1"'
    body = _task_update(read.json(), "triaged", "Fits the CMHT criteria")
    response = put(client, f"/fhir/Task/{referral.pk}", body, team, HTTP_IF_MATCH=read["ETag"])
    assert response.status_code == 200, response.content
    assert response["ETag"] == 'W/"2"'
    assert response.json()["status"] == "received"
    # The same stale version again: 412, nothing changes.
    again = put(
        client, f"/fhir/Task/{referral.pk}", _task_update(read.json(), "accepted", "x"), team, HTTP_IF_MATCH='W/"1"'
    )
    assert_outcome(again, 412)
    assert_outcome(put(client, f"/fhir/Task/{referral.pk}", body, team), 428)
    accept = _task_update(response.json(), "accepted", "Seen at the hub", owner=universe.m("clinician_cmht"))
    accepted = put(client, f"/fhir/Task/{referral.pk}", accept, team, HTTP_IF_MATCH=response["ETag"])
    assert accepted.status_code == 200, accepted.content
    referral.refresh_from_db()
    assert (referral.status, referral.version, referral.named_person) == ("accepted", 3, universe.m("clinician_cmht"))


def test_only_the_owning_team_moves_a_referral(client, universe, gp_system, referral):
    read = get(client, f"/fhir/Task/{referral.pk}", gp_system)
    body = _task_update(read.json(), "triaged", "Not mine to triage")
    assert_outcome(put(client, f"/fhir/Task/{referral.pk}", body, gp_system, HTTP_IF_MATCH=read["ETag"]), 403)
    referral.refresh_from_db()
    assert referral.status == "received"


def test_an_unexpected_failure_is_still_an_operation_outcome(client, universe, gp_system, monkeypatch):
    from concerto.api.fhir import resources

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(resources, "read", broken)
    response = get(client, f"/fhir/Patient/{universe.alice.public_id}", gp_system)
    assert_outcome(response, 500)
    assert "boom" not in response.content.decode()


# --- refused and unseen writes leave a denied audit record (not rolled back with the answer) ----


def _observation_for(patient) -> dict:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": BMI}]},
        "subject": {"reference": f"Patient/{patient.public_id}"},
        "effectiveDateTime": "2024-02-01",
        "valueQuantity": {"value": 27.5, "unit": "kg/m2"},
    }


def _denied(patient) -> int:
    return AuditEvent.objects.filter(action="denied", patient_id=patient.pk).count()


def test_a_refused_create_is_403_and_audited_as_denied(client, universe):
    # A practice administrator sees Alice's demographics but may not record clinical events.
    admin = create_api_client(name="N1 admin system", organisation=universe.practice_n1, role="practice_admin", by=None)
    response = client.post(
        "/fhir/Observation", _observation_for(universe.alice), content_type=FHIR_JSON, **bearer(admin)
    )
    assert_outcome(response, 403)
    assert _denied(universe.alice) == 1


def test_a_refused_update_is_403_and_audited_as_denied(client, universe):
    nurse = create_api_client(name="N1 nurse system", organisation=universe.practice_n1, role="practice_nurse", by=None)
    resource, tag = _alice_resource(client, universe, nurse)
    resource["name"][0]["family"] = "Refused"
    response = put(client, f"/fhir/Patient/{universe.alice.public_id}", resource, nurse, HTTP_IF_MATCH=tag)
    assert_outcome(response, 403)
    assert _denied(universe.alice) == 1
    universe.alice.refresh_from_db()
    assert universe.alice.family_name == "Ashworth"


def test_an_update_of_an_unseen_patient_is_404_and_audited_as_denied(client, universe, gp_system):
    resource, tag = _alice_resource(client, universe, gp_system)
    resource["id"] = str(universe.carol.public_id)
    response = put(client, f"/fhir/Patient/{universe.carol.public_id}", resource, gp_system, HTTP_IF_MATCH=tag)
    assert_outcome(response, 404)
    assert _denied(universe.carol) == 1


def test_a_create_for_an_unseen_patient_is_404_and_audited_as_denied(client, universe, gp_system):
    response = client.post(
        "/fhir/Observation", _observation_for(universe.carol), content_type=FHIR_JSON, **bearer(gp_system)
    )
    assert_outcome(response, 404)
    assert _denied(universe.carol) == 1


def test_a_task_update_of_an_unseen_referral_is_404_and_audited_as_denied(client, universe, gp_system):
    from concerto.referrals.actions import refer

    hidden = refer(patient=universe.carol, destination=universe.cmht, reason="Low mood", by=universe.m("gp_s1"))
    body = {
        "resourceType": "Task",
        "status": "received",
        "intent": "order",
        "businessStatus": {"coding": [{"system": mappers.CONCERTO_REFERRAL_STATUS, "code": "triaged"}]},
    }
    response = put(client, f"/fhir/Task/{hidden.pk}", body, gp_system, HTTP_IF_MATCH='W/"1"')
    assert_outcome(response, 404)
    assert _denied(universe.carol) == 1


@pytest.mark.parametrize("version", ["²", "1" * 5000, "9" * 25])
def test_a_task_if_match_that_is_not_a_version_is_412(client, universe, referral, version):
    team = create_api_client(name="CMHT system", organisation=universe.cmht, role="team_manager", by=None)
    read = get(client, f"/fhir/Task/{referral.pk}", team)
    body = _task_update(read.json(), "triaged", "Fits")
    assert_outcome(put(client, f"/fhir/Task/{referral.pk}", body, team, HTTP_IF_MATCH=f'W/"{version}"'), 412)
    referral.refresh_from_db()
    assert referral.status == "received"


@pytest.mark.parametrize("member_id", ["²", "1" * 5000, "9" * 25])
def test_a_task_owner_that_is_not_a_role_id_is_422(client, universe, referral, member_id):
    team = create_api_client(name="CMHT system", organisation=universe.cmht, role="team_manager", by=None)
    read = get(client, f"/fhir/Task/{referral.pk}", team)
    triaged = put(
        client,
        f"/fhir/Task/{referral.pk}",
        _task_update(read.json(), "triaged", "Fits"),
        team,
        HTTP_IF_MATCH=read["ETag"],
    )
    body = _task_update(triaged.json(), "accepted", "Seen")
    body["owner"] = {"reference": f"PractitionerRole/{member_id}"}
    assert_outcome(put(client, f"/fhir/Task/{referral.pk}", body, team, HTTP_IF_MATCH=triaged["ETag"]), 422)
    referral.refresh_from_db()
    assert referral.status == "triaged"
