"""Transaction Bundles: all or nothing, and idempotent imports from a GP system.

Hypothesis breaks a valid bundle in one place (a bad entry, a dangling reference, a stale or
missing If-Match, a bad NHS number, a future date, an unsupported method) at any position; the
server must answer 4xx with an OperationOutcome and the database must be exactly as before.
"""

import copy
import datetime as dt
import uuid

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concerto.access.models import AuditEvent
from concerto.api.actions import create_api_client
from concerto.api.fhir.http import DMD, FHIR_JSON, NHS_NUMBER, ODS_CODE, SNOMED
from concerto.api.models import ImportedRecord
from concerto.people.models import Patient, Registration
from concerto.records.models import ClinicalEvent, MedicationIssue
from tests.fixtures import nhs_number

GP_SYSTEM = "https://gp-system.example.org/record-id"
NEW_NUMBER = nhs_number(55_000)


@pytest.fixture
def gp_system(universe):
    return create_api_client(name="N1 GP system", organisation=universe.practice_n1, role="gp", by=None)


def snapshot():
    """Every domain row an import can write, as plain values."""
    return {
        "patients": sorted(
            Patient.objects.values_list(
                "nhs_number", "given_name", "family_name", "date_of_birth", "sex", "postcode", "mobile_phone"
            )
        ),
        "registrations": sorted(Registration.objects.values_list("patient_id", "practice_id", "start", "end")),
        "events": sorted(ClinicalEvent.objects.values_list("patient_id", "code", "date", "value", "unit")),
        "medications": sorted(MedicationIssue.objects.values_list("patient_id", "code", "date")),
        "imported": sorted(ImportedRecord.objects.values_list("system", "value", "resource_type", "object_id")),
    }


def gp_bundle(practice_code: str, number: str = NEW_NUMBER) -> dict:
    """What a GP system sends: a patient and their coded events, referenced by urn:uuid."""
    patient_url = f"urn:uuid:{uuid.UUID(int=1)}"
    subject = {"reference": patient_url}
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": patient_url,
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": NHS_NUMBER, "value": number}],
                    "name": [{"use": "official", "family": "Imported", "given": ["Iris"]}],
                    "gender": "female",
                    "birthDate": "1970-04-01",
                    "address": [{"postalCode": "DM1 1AA"}],
                    "generalPractitioner": [{"identifier": {"system": ODS_CODE, "value": practice_code}}],
                },
                "request": {"method": "PUT", "url": f"Patient?identifier={NHS_NUMBER}|{number}"},
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "identifier": [{"system": GP_SYSTEM, "value": "obs-1"}],
                    "status": "final",
                    "code": {"coding": [{"system": SNOMED, "code": "60621009"}]},
                    "subject": subject,
                    "effectiveDateTime": "2024-03-01",
                    "valueQuantity": {"value": 31.2, "unit": "kg/m2"},
                },
                "request": {"method": "POST", "url": "Observation"},
            },
            {
                "resource": {
                    "resourceType": "Condition",
                    "identifier": [{"system": GP_SYSTEM, "value": "cond-1"}],
                    "code": {"coding": [{"system": SNOMED, "code": "58214004"}]},
                    "subject": subject,
                    "onsetDateTime": "2019-06-01",
                },
                "request": {"method": "POST", "url": "Condition"},
            },
            {
                "resource": {
                    "resourceType": "MedicationStatement",
                    "status": "active",
                    "medicationCodeableConcept": {"coding": [{"system": DMD, "code": "321589009"}]},
                    "subject": subject,
                    "effectiveDateTime": "2024-02-01",
                },
                "request": {"method": "POST", "url": "MedicationStatement"},
            },
        ],
    }


def post_bundle(client, issued, bundle):
    return client.post("/fhir/", bundle, content_type=FHIR_JSON, HTTP_AUTHORIZATION=f"Bearer {issued.key}")


def test_a_gp_bundle_creates_the_patient_and_events_through_the_actions(client, universe, gp_system):
    response = post_bundle(client, gp_system, gp_bundle(universe.practice_n1.code))
    assert response.status_code == 200, response.content
    reply = Bundle.model_validate(response.json())
    assert reply.type == "transaction-response"
    assert [e.response.status for e in reply.entry] == ["201 Created"] * 4
    patient = Patient.objects.get(nhs_number=NEW_NUMBER)
    assert patient.registrations.get().practice == universe.practice_n1
    assert ClinicalEvent.objects.filter(patient=patient).count() == 2
    assert MedicationIssue.objects.filter(patient=patient).count() == 1
    # Written by the client's membership, as the actions record it.
    assert set(ClinicalEvent.objects.filter(patient=patient).values_list("source_organisation", flat=True)) == {
        universe.practice_n1.pk
    }


def test_the_same_bundle_twice_changes_nothing(client, universe, gp_system):
    bundle = gp_bundle(universe.practice_n1.code)
    assert post_bundle(client, gp_system, bundle).status_code == 200
    after_first = snapshot()
    second = post_bundle(client, gp_system, bundle)
    assert second.status_code == 200
    assert snapshot() == after_first
    assert [e["response"]["status"] for e in second.json()["entry"]] == ["200 OK"] * 4


def test_a_resent_bundle_with_new_details_updates_the_patient_only(client, universe, gp_system):
    bundle = gp_bundle(universe.practice_n1.code)
    post_bundle(client, gp_system, bundle)
    bundle["entry"][0]["resource"]["address"][0]["postalCode"] = "DM2 2BB"
    response = post_bundle(client, gp_system, bundle)
    assert response.status_code == 200
    assert Patient.objects.get(nhs_number=NEW_NUMBER).postcode == "DM2 2BB"
    assert ClinicalEvent.objects.filter(patient__nhs_number=NEW_NUMBER).count() == 2


def test_an_amended_event_with_the_same_identifier_is_refused_whole(client, universe, gp_system):
    bundle = gp_bundle(universe.practice_n1.code)
    post_bundle(client, gp_system, bundle)
    before = snapshot()
    bundle["entry"][1]["resource"]["valueQuantity"]["value"] = 35.0
    bundle["entry"][0]["resource"]["address"][0]["postalCode"] = "DM3 3CC"
    response = post_bundle(client, gp_system, bundle)
    assert response.status_code == 422
    assert snapshot() == before  # not even the postcode change


def test_a_bundle_for_a_patient_of_another_practice_is_refused(client, universe, gp_system):
    bundle = gp_bundle(universe.practice_n1.code, number=universe.carol.nhs_number)
    before = snapshot()
    response = post_bundle(client, gp_system, bundle)
    assert 400 <= response.status_code < 500
    OperationOutcome.model_validate(response.json())
    assert snapshot() == before


# --- Hypothesis: one break anywhere, nothing written -------------------------------------------


def _bad_entry(bundle, draw, alice_id):
    kind = draw(
        st.sampled_from(
            [
                "junk_resource",
                "unknown_type",
                "invalid_status",
                "missing_code",
                "dangling_reference",
                "wrong_if_match",
                "missing_if_match",
                "bad_nhs_number",
                "future_date",
                "delete_method",
                "url_mismatch",
                "unsupported_type",
                "no_resource",
                "condition_mismatch",
            ]
        )
    )
    obs = copy.deepcopy(bundle["entry"][1])
    obs["resource"]["identifier"] = [{"system": GP_SYSTEM, "value": f"bad-{draw(st.integers(0, 10**6))}"}]
    if kind == "junk_resource":
        obs["resource"] = {"resourceType": "Observation", "status": "final", "code": "not-a-concept"}
    elif kind == "unknown_type":
        obs["resource"] = {"resourceType": "Spaceship", "id": "1"}
    elif kind == "invalid_status":
        recordable = {"final", "amended", "corrected"}
        obs["resource"]["status"] = draw(st.text(min_size=1, max_size=8).filter(lambda s: s not in recordable))
    elif kind == "missing_code":
        obs["resource"]["code"] = {"text": "something"}
    elif kind == "dangling_reference":
        obs["resource"]["subject"] = {"reference": f"urn:uuid:{uuid.UUID(int=draw(st.integers(2, 2**64)))}"}
    elif kind in ("wrong_if_match", "missing_if_match"):
        request = {"method": "PUT", "url": f"Patient/{alice_id}"}
        if kind == "wrong_if_match":
            request["ifMatch"] = f'W/"{draw(st.text(alphabet="0123456789abcdef", min_size=1, max_size=16))}"'
        obs = {
            "resource": {
                "resourceType": "Patient",
                "id": str(alice_id),
                "identifier": [{"system": NHS_NUMBER, "value": Patient.objects.get(public_id=alice_id).nhs_number}],
                "name": [{"family": "Changed", "given": ["Alice"]}],
                "gender": "female",
                "birthDate": "1980-05-17",
            },
            "request": request,
        }
    elif kind == "bad_nhs_number":
        obs = copy.deepcopy(bundle["entry"][0])
        obs["fullUrl"] = f"urn:uuid:{uuid.UUID(int=99)}"
        number = "9990000010"  # fails modulus 11
        obs["resource"]["identifier"][0]["value"] = number
        obs["request"]["url"] = f"Patient?identifier={NHS_NUMBER}|{number}"
    elif kind == "future_date":
        obs["resource"]["effectiveDateTime"] = (
            dt.date.today() + dt.timedelta(days=draw(st.integers(2, 900)))
        ).isoformat()
    elif kind == "delete_method":
        obs["request"] = {"method": "DELETE", "url": "Observation/1"}
    elif kind == "url_mismatch":
        obs["request"]["url"] = "Condition"
    elif kind == "unsupported_type":
        obs = {
            "resource": {"resourceType": "Organization", "name": "Sneaky"},
            "request": {"method": "POST", "url": "Organization"},
        }
    elif kind == "no_resource":
        obs.pop("resource")
    elif kind == "condition_mismatch":
        # A conditional update naming one NHS number for a resource carrying another.
        obs = copy.deepcopy(bundle["entry"][0])
        obs["fullUrl"] = f"urn:uuid:{uuid.UUID(int=98)}"
        obs["resource"]["identifier"][0]["value"] = nhs_number(56_000)
        obs["request"]["url"] = f"Patient?identifier={NHS_NUMBER}|{nhs_number(57_000)}"
    return kind, obs


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_malformed_bundles_are_refused_whole_with_an_outcome(client, universe, gp_system, data):
    bundle = gp_bundle(universe.practice_n1.code)
    kind, bad = _bad_entry(bundle, data.draw, universe.alice.public_id)
    position = data.draw(st.integers(0, len(bundle["entry"])), label="position")
    bundle["entry"].insert(position, bad)
    before = snapshot()
    response = post_bundle(client, gp_system, bundle)
    assert 400 <= response.status_code < 500, (kind, response.status_code, response.content[:300])
    assert response["Content-Type"] == FHIR_JSON
    OperationOutcome.model_validate(response.json())
    assert snapshot() == before, kind


def test_the_unbroken_bundle_does_write(client, universe, gp_system):
    # The control for the property above: without the break the same bundle writes rows.
    before = snapshot()
    assert post_bundle(client, gp_system, gp_bundle(universe.practice_n1.code)).status_code == 200
    assert snapshot() != before


def test_not_a_transaction_bundle_is_refused(client, universe, gp_system):
    bundle = gp_bundle(universe.practice_n1.code)
    bundle["type"] = "batch"
    response = post_bundle(client, gp_system, bundle)
    assert response.status_code == 400
    OperationOutcome.model_validate(response.json())


def test_a_versioned_update_inside_a_bundle(client, universe, gp_system):
    read = client.get(f"/fhir/Patient/{universe.alice.public_id}", HTTP_AUTHORIZATION=f"Bearer {gp_system.key}")
    resource = read.json()
    resource["address"] = [{"postalCode": "DM9 9ZZ"}]
    entry = {"resource": resource, "request": {"method": "PUT", "url": f"Patient/{universe.alice.public_id}"}}
    stale = {**entry, "request": {**entry["request"], "ifMatch": 'W/"0000"'}}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [stale]}
    assert post_bundle(client, gp_system, bundle).status_code == 412
    entry["request"]["ifMatch"] = read["ETag"]
    bundle["entry"] = [entry]
    response = post_bundle(client, gp_system, bundle)
    assert response.status_code == 200, response.content
    assert response.json()["entry"][0]["response"]["etag"] != read["ETag"]
    universe.alice.refresh_from_db()
    assert universe.alice.postcode == "DM9 9ZZ"


def test_if_none_exist_must_name_the_resources_nhs_number(client, universe, gp_system):
    patient = gp_bundle(universe.practice_n1.code)["entry"][0]["resource"]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {gp_system.key}"}
    wrong = f"identifier={NHS_NUMBER}|{nhs_number(58_000)}"
    response = client.post("/fhir/Patient", patient, content_type=FHIR_JSON, HTTP_IF_NONE_EXIST=wrong, **headers)
    assert response.status_code == 400
    assert not Patient.objects.filter(nhs_number=NEW_NUMBER).exists()
    right = f"identifier={NHS_NUMBER}|{NEW_NUMBER}"
    first = client.post("/fhir/Patient", patient, content_type=FHIR_JSON, HTTP_IF_NONE_EXIST=right, **headers)
    again = client.post("/fhir/Patient", patient, content_type=FHIR_JSON, HTTP_IF_NONE_EXIST=right, **headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]


def test_imported_identifiers_belong_to_the_sending_organisation(client, universe, gp_system):
    # Two practices' systems may number their records alike: the south practice's obs-1 is its own
    # record, not a changed copy of the north's (whose content it must not learn about).
    assert post_bundle(client, gp_system, gp_bundle(universe.practice_n1.code)).status_code == 200
    south = create_api_client(name="S1 GP system", organisation=universe.practice_s1, role="gp", by=None)
    south_bundle = gp_bundle(universe.practice_s1.code, number=nhs_number(56_000))
    south_bundle["entry"][1]["resource"]["valueQuantity"]["value"] = 24.0
    response = post_bundle(client, south, south_bundle)
    assert response.status_code == 200, response.content
    assert [e["response"]["status"] for e in response.json()["entry"]] == ["201 Created"] * 4
    assert sorted(ImportedRecord.objects.filter(value="obs-1").values_list("organisation__code", flat=True)) == sorted(
        [universe.practice_n1.code, universe.practice_s1.code]
    )
    # Each resend still finds its own rows.
    before = snapshot()
    assert post_bundle(client, south, south_bundle).status_code == 200
    assert post_bundle(client, gp_system, gp_bundle(universe.practice_n1.code)).status_code == 200
    assert snapshot() == before


def test_a_bundle_that_loses_a_race_for_an_identifier_is_409_audited_and_writes_nothing(
    client, universe, gp_system, monkeypatch
):
    # Another request records the same identifier between this bundle's lookup and its insert (as
    # two identical bundles sent at once would): the unique constraint refuses the second insert.
    from concerto.api.fhir import writes

    record = writes.record_clinical_event

    def raced(**kwargs):
        event = record(**kwargs)
        ImportedRecord.objects.create(
            organisation=universe.practice_n1,
            system=GP_SYSTEM,
            value="obs-1",
            resource_type="Observation",
            object_id=event.pk,
            fingerprint="from the other request",
        )
        return event

    monkeypatch.setattr(writes, "record_clinical_event", raced)
    before = snapshot()
    response = post_bundle(client, gp_system, gp_bundle(universe.practice_n1.code))
    assert response.status_code == 409, response.content
    OperationOutcome.model_validate(response.json())
    assert snapshot() == before
    refusal = AuditEvent.objects.get(what="fhir_transaction")
    assert (refusal.action, refusal.detail["status"]) == ("denied", 409)


def test_an_unexpected_failure_in_a_bundle_is_audited_and_writes_nothing(client, universe, gp_system, monkeypatch):
    from concerto.api.fhir import writes

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(writes, "record_medication_issue", broken)
    before = snapshot()
    response = post_bundle(client, gp_system, gp_bundle(universe.practice_n1.code))
    assert response.status_code == 500
    assert "boom" not in response.content.decode()
    assert snapshot() == before
    refusal = AuditEvent.objects.get(what="fhir_transaction")
    assert (refusal.action, refusal.detail["status"]) == ("denied", 500)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_identical_bundles_at_once_write_once():
    import threading

    from django.db import connection
    from django.test import Client

    from tests.fixtures import Universe

    universe = Universe()
    issued = create_api_client(name="N1 GP system", organisation=universe.practice_n1, role="gp", by=None)
    bundle = gp_bundle(universe.practice_n1.code)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def send():
        try:
            barrier.wait(timeout=10)
            statuses.append(post_bundle(Client(), issued, bundle).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Either both found the same rows in turn, or the loser was refused whole (409, audited).
    assert sorted(statuses) in ([200, 200], [200, 409])
    assert Patient.objects.filter(nhs_number=NEW_NUMBER).count() == 1
    assert ClinicalEvent.objects.filter(patient__nhs_number=NEW_NUMBER).count() == 2
    assert ImportedRecord.objects.count() == 2
    assert AuditEvent.objects.filter(what="fhir_transaction", action="denied").count() == statuses.count(409)
