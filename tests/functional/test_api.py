"""The API over a real socket: Swagger UI under the strict CSP in Chromium, and a system client
calling the FHIR facade of a running server with its bearer key."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.functional.conftest import query, screenshot

pytestmark = pytest.mark.functional
CONCERTO = [sys.executable, "-m", "concerto.manage"]


def test_api_docs_render_in_the_browser_without_csp_violations(demo_server, page):
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{demo_server['url']}/api/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    expect(page.get_by_text("/api/patients/{patient_id}", exact=True).first).to_be_visible()
    screenshot(page, "api-docs")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems


def _issue_key(db_path) -> str:
    env = {
        **os.environ,
        "CONCERTO_DATA_DIR": str(db_path.parent),
        "DEBUG": "false",
        "SECRET_KEY": "functional-test-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [
            *CONCERTO,
            "create_api_client",
            "--organisation",
            "Z90001",
            "--role",
            "gp",
            "--name",
            "Functional test system",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split("bearer key (shown once): ", 1)[1].strip()


def _get(url: str, key: str | None):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, json.loads(exc.read())


def test_a_system_reads_and_searches_fhir_over_http(demo_server):
    url, db = demo_server["url"], demo_server["db"]
    key = _issue_key(db)
    (nhs_number,) = query(
        db,
        """SELECT p.nhs_number FROM people_patient p
        JOIN people_registration r ON r.patient_id = p.id AND r."end" IS NULL
        JOIN organisations_organisation o ON o.id = r.practice_id AND o.code = 'Z90001'
        ORDER BY p.id LIMIT 1""",
    )[0]
    status, headers, bundle = _get(f"{url}/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs_number}", key)
    assert status == 200
    assert headers["Content-Type"] == "application/fhir+json"
    assert bundle["total"] == 1
    patient_id = bundle["entry"][0]["resource"]["id"]
    status, headers, patient = _get(f"{url}/fhir/Patient/{patient_id}", key)
    assert status == 200 and headers["ETag"] == f'W/"{patient["meta"]["versionId"]}"'
    status, _, outcome = _get(f"{url}/fhir/Patient/{patient_id}", None)
    assert status == 401 and outcome["resourceType"] == "OperationOutcome"
    # A patient of another practice is not found for this practice's system.
    (elsewhere,) = query(
        db,
        """SELECT p.public_id FROM people_patient p
        JOIN people_registration r ON r.patient_id = p.id AND r."end" IS NULL
        JOIN organisations_organisation o ON o.id = r.practice_id AND o.code <> 'Z90001'
        WHERE NOT EXISTS (SELECT 1 FROM access_careteamentry c WHERE c.patient_id = p.id)
        ORDER BY p.id LIMIT 1""",
    )[0]
    public_id = str(elsewhere)
    if len(public_id) == 32:  # SQLite keeps UUIDs as 32 hex digits
        public_id = f"{public_id[:8]}-{public_id[8:12]}-{public_id[12:16]}-{public_id[16:20]}-{public_id[20:]}"
    status, _, outcome = _get(f"{url}/fhir/Patient/{public_id}", key)
    assert status == 404 and outcome["resourceType"] == "OperationOutcome"
