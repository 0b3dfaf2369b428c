import re

import pytest
from playwright.sync_api import expect

from concerto.synthetic.demo import DEMO_PASSWORD
from tests.functional.conftest import query, screenshot

pytestmark = pytest.mark.functional


def _log_in(page, url, username):
    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_gp_logs_in_chooses_a_role_searches_and_opens_a_patient(demo_server, page):
    url, db = demo_server["url"], demo_server["db"]
    family, given, nhs = query(
        db,
        """
        SELECT p.family_name, p.given_name, p.nhs_number FROM people_patient p
        JOIN people_registration r ON r.patient_id = p.id AND r."end" IS NULL
        JOIN organisations_organisation o ON o.id = r.practice_id AND o.code = 'Z90001'
        WHERE EXISTS (SELECT 1 FROM records_clinicalevent e WHERE e.patient_id = p.id)
        ORDER BY p.id LIMIT 1""",
    )[0]

    _log_in(page, url, "gp")
    expect(page.get_by_role("heading", name="Which role are you working in?")).to_be_visible()
    page.get_by_label(re.compile(r"^GP, ")).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="GP", exact=True)).to_be_visible()

    page.get_by_role("link", name="Find a patient").first.click()
    page.get_by_label("NHS number or name").fill(f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 patient found")).to_be_visible()
    page.get_by_role("link", name=f"{family.upper()}, {given}").click()

    banner = page.get_by_test_id("patient-banner")
    expect(banner).to_contain_text(f"{family.upper()}, {given}")
    expect(page.get_by_test_id("nhs-number")).to_have_text(f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}")
    expect(page.get_by_role("heading", name="Recent coded events")).to_be_visible()
    path = screenshot(page, "patient-summary")
    assert path.stat().st_size > 10_000


def test_a_patient_of_another_practice_is_not_found(demo_server, page):
    url, db = demo_server["url"], demo_server["db"]
    (public_id,) = query(
        db,
        """
        SELECT p.public_id FROM people_patient p
        JOIN people_registration r ON r.patient_id = p.id AND r."end" IS NULL
        JOIN organisations_organisation o ON o.id = r.practice_id AND o.code = 'Z90008'
        LIMIT 1""",
    )[0]
    _log_in(page, url, "nurse")  # one membership: chosen automatically
    expect(page.get_by_role("heading", name="Practice nurse")).to_be_visible()
    public_id = str(public_id)
    if "-" not in public_id:  # SQLite stores UUIDs as 32 hex digits
        public_id = f"{public_id[:8]}-{public_id[8:12]}-{public_id[12:16]}-{public_id[16:20]}-{public_id[20:]}"
    response = page.goto(f"{url}/patients/{public_id}/")
    assert response.status == 404
    (denied,) = query(db, "SELECT COUNT(*) FROM access_auditevent WHERE action = 'denied' AND username = 'nurse'")[0:1]
    assert denied[0] == 1
