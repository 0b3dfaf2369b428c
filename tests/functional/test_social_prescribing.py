"""A link worker finds a music group near the patient and refers; the service accepts and records
attendance; the GP sees it on the patient's page."""

import re

import pytest
from playwright.sync_api import expect

from tests.functional.conftest import query, screenshot
from tests.functional.test_patient_lookup import _log_in

pytestmark = pytest.mark.functional


def test_link_worker_refers_to_a_music_group_the_service_accepts_and_the_gp_sees_attendance(demo_server, browser):
    url, db = demo_server["url"], demo_server["db"]
    # An adult at the demo GP's practice (Northgate PCN, postcode district DM1).
    (nhs, given) = query(
        db,
        """
        SELECT p.nhs_number, p.given_name FROM people_patient p
        JOIN people_registration r ON r.patient_id = p.id AND r."end" IS NULL
        JOIN organisations_organisation o ON o.id = r.practice_id AND o.code = 'Z90001'
        WHERE p.date_of_death IS NULL AND p.postcode LIKE 'DM1 %'
          AND p.date_of_birth BETWEEN date('now', '-60 years') AND date('now', '-25 years')
        ORDER BY p.id LIMIT 1""",
    )[0]

    link = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _log_in(link, url, "linkworker")
    link.get_by_role("link", name="Find a patient").first.click()
    link.get_by_label("NHS number or name").fill(nhs)
    link.get_by_role("button", name="Search").click()
    link.get_by_test_id("search-results").get_by_role("link").first.click()
    patient_url = link.url
    link.get_by_role("link", name="Social prescribing details").click()
    link.get_by_label("What matters to me").fill("Used to sing in a choir; lonely since moving here.")
    link.get_by_role("button", name="Add note").click()
    expect(link.get_by_test_id("what-matters")).to_contain_text("Used to sing in a choir")

    link.get_by_role("link", name=f"Find a service near {given}").click()
    link.get_by_label("Music", exact=True).check()
    link.get_by_label("Distance").select_option(label="Within 2 km")
    link.get_by_role("button", name="Search").click()
    results = link.get_by_test_id("result")
    expect(results.first).to_contain_text("Sing Your Heart Out")
    expect(results.first.get_by_test_id("distance")).to_have_text("0.0 km away")
    # The band is in DM3, further than 2 km: not offered.
    expect(link.get_by_test_id("results")).not_to_contain_text("Riverside Community Band")
    screenshot(link, "directory-search-near-patient")
    results.first.get_by_role("link", name="Sing Your Heart Out").click()
    link.get_by_label(re.compile("What matters to the person")).fill("Loves singing; would like company.")
    link.get_by_label("The person agrees to share their details with this service").check()
    link.get_by_role("button", name="Send referral").click()
    row = link.get_by_test_id("prescriptions").get_by_role("row", name=re.compile("Sing Your Heart Out"))
    expect(row.get_by_test_id("referral-status")).to_have_text("Received")

    vcse = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _log_in(vcse, url, "vcse")
    vcse.get_by_role("link", name="Social prescriptions").click()
    item = vcse.get_by_test_id("incoming-item").filter(has_text="Loves singing")
    expect(item).to_have_count(1)
    item.get_by_role("button", name="Accept").click()
    expect(vcse.get_by_text("Accepted:")).to_be_visible()
    item = vcse.get_by_test_id("incoming-item").filter(has_text="Loves singing")
    expect(item.get_by_test_id("referral-status")).to_have_text("Accepted")
    item.get_by_label("Attended", exact=True).check()
    item.get_by_role("button", name="Record attendance").click()
    expect(vcse.get_by_text("Attendance recorded.")).to_be_visible()
    screenshot(vcse, "social-prescriptions-incoming")
    attended = query(
        db,
        """SELECT a.attended FROM directory_attendance a
        JOIN directory_socialprescription sp ON sp.id = a.prescription_id
        JOIN referrals_referral r ON r.id = sp.referral_id
        JOIN people_patient p ON p.id = r.patient_id WHERE p.nhs_number = ?""",
        nhs,
    )
    assert attended == [(1,)]

    gp = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _log_in(gp, url, "gp")
    gp.get_by_label(re.compile(r"^GP, ")).check()
    gp.get_by_role("button", name="Continue").click()
    gp.goto(patient_url)
    section = gp.get_by_test_id("social-prescriptions")
    expect(section).to_contain_text("Sing Your Heart Out")
    expect(section.get_by_test_id("referral-status")).to_have_text("Accepted")
    expect(section.get_by_test_id("sp-attendance")).to_have_text(re.compile(r"^· attended \d{1,2} \w{3} \d{4}$"))
    gp.get_by_test_id("social-prescribing").scroll_into_view_if_needed()
    screenshot(gp, "gp-sees-social-prescribing")


def test_the_caseload_shows_where_a_handed_over_person_went_and_programmes_cover_complete_months(demo_server, browser):
    url = demo_server["url"]
    link = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _log_in(link, url, "linkworker")
    link.goto(f"{url}/social-prescribing/caseload/")
    # The demo's third person was handed over by Harmony to the walking group.
    onward = link.get_by_test_id("sp-onward")
    expect(onward.first).to_contain_text("handed over to Peer Support Network")
    screenshot(link, "caseload-handed-over")
    link.goto(f"{url}/directory/programmes/")
    expect(link.get_by_text(re.compile(r"last 12 complete months \(\w+ \d{4} to \w+ \d{4}"))).to_be_visible()
    expect(link.get_by_test_id("programmes").get_by_role("row", name=re.compile("^Schools"))).to_be_visible()
    screenshot(link, "programmes-complete-months")
