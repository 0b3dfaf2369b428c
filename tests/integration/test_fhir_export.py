"""Bulk $export of a practice's SMI register: kick-off 202 with a status URL, polling, NDJSON
files; run by the worker command or by a background thread; scoped by the access policy."""

import datetime as dt
import io
import json
import threading

import pytest
from django.core.management import call_command
from fhir.resources.R4B import get_fhir_model_class

from concerto.access.models import AuditEvent
from concerto.api.actions import create_api_client
from concerto.api.fhir.http import NDJSON
from concerto.api.models import ExportJob
from concerto.records.actions import record_clinical_event

SCHIZOPHRENIA = "58214004"
BMI = "60621009"


@pytest.fixture
def gp_system(universe):
    return create_api_client(name="N1 GP system", organisation=universe.practice_n1, role="gp", by=None)


@pytest.fixture
def on_register(make):
    return make((SCHIZOPHRENIA, dt.date(2015, 1, 1)), (BMI, dt.date(2024, 6, 1), 31.0))


def call(client, issued, url, **headers):
    return client.get(url.removeprefix("http://testserver"), HTTP_AUTHORIZATION=f"Bearer {issued.key}", **headers)


def kick_off(client, issued, practice_code, query=""):
    return call(client, issued, f"/fhir/Group/smi-register-{practice_code}/$export{query}", HTTP_PREFER="respond-async")


def test_kick_off_poll_run_and_fetch(client, settings, universe, gp_system, on_register):
    settings.FHIR_EXPORT_IN_THREAD = False
    response = kick_off(client, gp_system, universe.practice_n1.code)
    assert response.status_code == 202
    status_url = response["Content-Location"]
    assert call(client, gp_system, status_url).status_code == 202  # queued: nobody has run it yet

    call_command("fhir_export_worker", stdout=io.StringIO())

    manifest = call(client, gp_system, status_url)
    assert manifest.status_code == 200
    outputs = {o["type"]: o for o in manifest.json()["output"]}
    assert set(outputs) == {"Patient", "Condition", "Observation", "MedicationStatement"}
    patients_file = call(client, gp_system, outputs["Patient"]["url"])
    assert patients_file["Content-Type"] == NDJSON
    lines = [json.loads(line) for line in patients_file.content.decode().splitlines()]
    # Only the register: Alice (no SMI diagnosis) is registered at N1 but is not exported.
    assert [p["id"] for p in lines] == [str(on_register.public_id)]
    for output in outputs.values():
        for line in call(client, gp_system, output["url"]).content.decode().splitlines():
            resource = json.loads(line)
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    conditions = call(client, gp_system, outputs["Condition"]["url"]).content.decode().splitlines()
    assert json.loads(conditions[0])["code"]["coding"][0]["code"] == SCHIZOPHRENIA
    audit = AuditEvent.objects.get(what="fhir_bulk_export")
    assert audit.detail["patient_ids"] == [on_register.pk]


def test_the_register_of_another_practice_is_404(client, settings, universe, gp_system):
    settings.FHIR_EXPORT_IN_THREAD = False
    response = kick_off(client, gp_system, universe.practice_s1.code)
    assert response.status_code == 404
    assert not ExportJob.objects.exists()


def test_someone_else_cannot_poll_the_job(client, settings, universe, gp_system, on_register):
    settings.FHIR_EXPORT_IN_THREAD = False
    status_url = kick_off(client, gp_system, universe.practice_n1.code)["Content-Location"]
    other = create_api_client(name="N1 other system", organisation=universe.practice_n1, role="gp", by=None)
    assert call(client, other, status_url).status_code == 404


def test_kick_off_needs_prefer_respond_async_and_known_types(client, universe, gp_system):
    assert call(client, gp_system, f"/fhir/Group/smi-register-{universe.practice_n1.code}/$export").status_code == 400
    response = kick_off(client, gp_system, universe.practice_n1.code, "?_type=Spaceship")
    assert response.status_code == 400


def test_a_demographics_role_cannot_export(client, universe):
    admin_system = create_api_client(name="N1 admin", organisation=universe.practice_n1, role="practice_admin", by=None)
    assert kick_off(client, admin_system, universe.practice_n1.code).status_code == 403


def test_only_the_types_asked_for(client, settings, universe, gp_system, on_register):
    settings.FHIR_EXPORT_IN_THREAD = False
    status_url = kick_off(client, gp_system, universe.practice_n1.code, "?_type=Patient")["Content-Location"]
    call_command("fhir_export_worker", stdout=io.StringIO())
    assert [o["type"] for o in call(client, gp_system, status_url).json()["output"]] == ["Patient"]


@pytest.mark.postgres  # a transactional test: SQLite cannot flush the append-only audit table
@pytest.mark.django_db(transaction=True)
def test_the_background_thread_runs_the_job_after_commit(client, settings):
    # Committed data (transactional test), as the thread reads through its own connection.
    from tests.fixtures import Universe

    universe = Universe()
    patient = record_clinical_event(
        patient=universe.alice, code=SCHIZOPHRENIA, date=dt.date(2016, 1, 1), by=universe.m("gp_n1")
    ).patient
    gp_system = create_api_client(name="N1", organisation=universe.practice_n1, role="gp", by=None)
    settings.FHIR_EXPORT_IN_THREAD = True
    status_url = kick_off(client, gp_system, universe.practice_n1.code)["Content-Location"]
    for thread in threading.enumerate():
        if thread.name.startswith("fhir-export-"):
            thread.join(timeout=60)
    manifest = call(client, gp_system, status_url)
    assert manifest.status_code == 200
    patients = next(o for o in manifest.json()["output"] if o["type"] == "Patient")
    assert patients["count"] == 1
    assert str(patient.public_id) in call(client, gp_system, patients["url"]).content.decode()


@pytest.mark.parametrize("file_id", ["9" * 19, "9" * 30, "1" * 5000])
def test_an_export_file_id_beyond_any_row_is_404(client, settings, universe, gp_system, on_register, file_id):
    settings.FHIR_EXPORT_IN_THREAD = False
    status_url = kick_off(client, gp_system, universe.practice_n1.code)["Content-Location"]
    call_command("fhir_export_worker", stdout=io.StringIO())
    job_id = status_url.rstrip("/").rsplit("/", 1)[1]
    response = call(client, gp_system, f"/fhir/$export-file/{job_id}/{file_id}")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
