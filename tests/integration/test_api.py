"""The JSON API (Django Ninja): OpenAPI and docs page, session and client-credential auth, the
access policy and audit behind every endpoint."""

import datetime as dt

import pytest

from concerto.access.models import AuditEvent
from concerto.api.actions import create_api_client, revoke_api_client
from concerto.records.models import ClinicalEvent
from tests.fixtures import client_as


@pytest.fixture
def gp_system(universe):
    return create_api_client(name="N1 GP system", organisation=universe.practice_n1, role="gp", by=None)


def auth(issued):
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.key}"}


def test_openapi_document_lists_the_endpoints(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert {"/api/me", "/api/patients", "/api/patients/{patient_id}"} <= set(document["paths"])


def test_docs_page_loads_swagger_from_our_own_static_files_under_the_csp(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn." not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_a_client_acts_as_its_membership(client, universe, gp_system):
    me = client.get("/api/me", **auth(gp_system)).json()
    assert me["organisation_code"] == universe.practice_n1.code
    assert me["role"] == "gp"


def test_no_credentials_or_a_revoked_client_is_401(client, universe, gp_system):
    assert client.get("/api/me").status_code == 401
    revoke_api_client(client=gp_system.client, by=None)
    assert client.get("/api/me", **auth(gp_system)).status_code == 401


def test_a_session_acts_as_the_chosen_membership(universe):
    me = client_as(universe.m("clinician_cmht")).get("/api/me").json()
    assert me["organisation_code"] == universe.cmht.code


def test_patient_of_another_organisation_is_404_and_audited_as_denied(client, universe, gp_system):
    assert client.get(f"/api/patients/{universe.alice.public_id}", **auth(gp_system)).status_code == 200
    response = client.get(f"/api/patients/{universe.carol.public_id}", **auth(gp_system))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="denied", patient_id=universe.carol.pk, what="api_patient").exists()


def test_search_returns_only_visible_patients(client, universe, gp_system):
    found = client.get("/api/patients?q=Chowdhury", **auth(gp_system)).json()
    assert found == []
    found = client.get("/api/patients?q=Ashworth", **auth(gp_system)).json()
    assert [p["id"] for p in found] == [str(universe.alice.public_id)]


def test_recording_an_event_goes_through_the_action_and_its_audit(client, universe, gp_system):
    body = {"code": "60621009", "date": "2024-05-01", "value": "29.40", "unit": "kg/m2"}
    response = client.post(
        f"/api/patients/{universe.alice.public_id}/events", body, content_type="application/json", **auth(gp_system)
    )
    assert response.status_code == 201, response.content
    event = ClinicalEvent.objects.get(pk=response.json()["id"])
    assert event.source_organisation == universe.practice_n1
    assert AuditEvent.objects.filter(what="clinical_event", action="create", patient_id=universe.alice.pk).exists()


def test_a_future_date_is_422(client, universe, gp_system):
    body = {"code": "60621009", "date": (dt.date.today() + dt.timedelta(days=3)).isoformat()}
    response = client.post(
        f"/api/patients/{universe.alice.public_id}/events", body, content_type="application/json", **auth(gp_system)
    )
    assert response.status_code == 422


def test_a_demographics_role_cannot_read_events(universe):
    client = client_as(universe.m("admin_n1"))
    assert client.get(f"/api/patients/{universe.alice.public_id}").status_code == 200
    assert client.get(f"/api/patients/{universe.alice.public_id}/events").status_code == 404


def test_session_changes_need_the_csrf_token(universe):
    client = client_as(universe.m("gp_n1"))
    client.handler.enforce_csrf_checks = True
    body = {"code": "60621009", "date": "2024-05-01"}
    response = client.post(f"/api/patients/{universe.alice.public_id}/events", body, content_type="application/json")
    assert response.status_code in (401, 403)
    assert not ClinicalEvent.objects.filter(patient=universe.alice).exists()


def test_the_demo_client_has_the_published_key(client, universe):
    from concerto.api import demo
    from concerto.organisations.actions import create_organisation

    create_organisation(code=demo.DEMO_PRACTICE, name="Demo practice", kind="gp_practice", parent=universe.pcn_north)
    key = demo.ensure_demo_client()
    assert key == demo.ensure_demo_client() == demo.DEMO_KEY  # made once
    assert client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {key}").json()["organisation_code"] == demo.DEMO_PRACTICE
