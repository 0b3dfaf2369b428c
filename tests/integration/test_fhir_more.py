"""FHIR resources over the care plan, outcomes and directory apps: CarePlan, Goal, Questionnaire,
QuestionnaireResponse, HealthcareService. Read through the same policy; valid R4."""

import datetime as dt
import json

import pytest
from fhir.resources.R4B import get_fhir_model_class

from concerto.api.actions import create_api_client
from concerto.careplans.actions import agree_plan, save_plan
from concerto.directory import actions as directory_actions
from concerto.directory import demo as directory_demo
from concerto.organisations.actions import create_organisation
from concerto.organisations.models import OrganisationKind as K
from concerto.outcomes.actions import record_response

PHQ9_ALL_ZERO = {str(n): 0 for n in range(1, 10)}


@pytest.fixture
def gp_system(universe):
    return create_api_client(name="N1 GP system", organisation=universe.practice_n1, role="gp", by=None)


@pytest.fixture
def south_system(universe):
    return create_api_client(name="S1 GP system", organisation=universe.practice_s1, role="gp", by=None)


def get(client, issued, url):
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {issued.key}")


def valid(resource):
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


@pytest.fixture
def alice_plan(universe):
    content = {
        "what_matters": "Getting back to the allotment",
        "goals": [{"goal": "Walk to the allotment twice a week", "baseline": 2, "current": 5}],
    }
    gp = universe.m("gp_n1")
    version = save_plan(patient=universe.alice, kind="care", based_on=0, content=content, by=gp)
    return agree_plan(
        patient=universe.alice,
        kind="care",
        based_on=version.number,
        agreed_with="Alice",
        agreed_on=dt.date.today(),
        how="in_person",
        by=gp,
    )


def test_care_plan_and_its_goals(client, universe, gp_system, south_system, alice_plan):
    plan_id = f"care-{universe.alice.public_id}"
    response = get(client, gp_system, f"/fhir/CarePlan/{plan_id}")
    assert response.status_code == 200, response.content
    plan = valid(response.json())
    assert plan["status"] == "active"
    assert plan["meta"]["versionId"] == str(alice_plan.number)
    assert "allotment" in plan["description"]
    goal_ref = plan["goal"][0]["reference"]
    goal = valid(get(client, gp_system, f"/fhir/{goal_ref}").json())
    assert goal["description"]["text"] == "Walk to the allotment twice a week"
    found = get(client, gp_system, f"/fhir/Goal?patient={universe.alice.public_id}").json()
    assert found["total"] == 1
    # Another practice's system sees neither.
    assert get(client, south_system, f"/fhir/CarePlan/{plan_id}").status_code == 404
    assert get(client, south_system, f"/fhir/{goal_ref}").status_code == 404
    assert get(client, south_system, f"/fhir/Goal?patient={universe.alice.public_id}").json()["total"] == 0


def test_goal_search_needs_a_patient(client, universe, gp_system):
    assert get(client, gp_system, "/fhir/Goal").status_code == 400


def test_questionnaires_are_served_as_r4(client, universe, gp_system):
    bundle = get(client, gp_system, "/fhir/Questionnaire").json()
    keys = {e["resource"]["id"] for e in bundle["entry"]}
    assert {"phq9", "gad7"} <= keys
    phq9 = valid(get(client, gp_system, "/fhir/Questionnaire/phq9").json())
    assert phq9["item"][0]["item"][0]["answerOption"][0]["valueCoding"]["display"] == "Not at all"


def test_questionnaire_responses_follow_the_policy(client, universe, gp_system, south_system):
    response = record_response(
        patient=universe.alice, questionnaire="phq9", answers=PHQ9_ALL_ZERO, by=universe.m("gp_n1")
    )
    read = get(client, gp_system, f"/fhir/QuestionnaireResponse/{response.pk}")
    assert read.status_code == 200, read.content
    resource = valid(read.json())
    assert resource["questionnaire"].startswith("https://concerto.nhs.example/Questionnaire/phq9")
    assert get(client, south_system, f"/fhir/QuestionnaireResponse/{response.pk}").status_code == 404
    search = get(client, gp_system, f"/fhir/QuestionnaireResponse?patient={universe.alice.public_id}").json()
    assert search["total"] == 1


def test_directory_services_as_healthcare_services(client, universe, gp_system):
    for code, name in [("VCS01", "Demo Mind"), ("VCS02", "Harmony Community Music"), ("VCS03", "Peer Support")]:
        create_organisation(code=code, name=name, kind=K.VCSE, parent=universe.icb)
    directory_actions.import_services(text=json.dumps(directory_demo.document(today=dt.date(2026, 11, 1))), by=None)
    bundle = get(client, gp_system, "/fhir/HealthcareService?_count=100").json()
    assert bundle["total"] > 0
    for entry in bundle["entry"]:
        valid(entry["resource"])
    first = bundle["entry"][0]["resource"]
    assert get(client, gp_system, f"/fhir/HealthcareService/{first['id']}").json()["name"] == first["name"]
