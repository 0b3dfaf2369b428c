import re

import pytest
from playwright.sync_api import expect

from tests.functional.conftest import query, screenshot
from tests.functional.test_patient_lookup import _log_in

pytestmark = pytest.mark.functional


def test_gp_refers_the_hub_redirects_to_a_vcse_partner_and_the_gp_sees_it(demo_server, browser):
    url, db = demo_server["url"], demo_server["db"]
    (nhs,) = query(
        db,
        """
        SELECT p.nhs_number FROM people_patient p
        JOIN people_registration r ON r.patient_id = p.id AND r."end" IS NULL
        JOIN organisations_organisation o ON o.id = r.practice_id AND o.code = 'Z90001'
        WHERE p.date_of_death IS NULL ORDER BY p.id DESC LIMIT 1""",
    )[0]
    spaced = f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"

    gp = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _log_in(gp, url, "gp")
    gp.get_by_label(re.compile(r"^GP, ")).check()
    gp.get_by_role("button", name="Continue").click()
    gp.get_by_role("link", name="Find a patient").first.click()
    gp.get_by_label("NHS number or name").fill(spaced)
    gp.get_by_role("button", name="Search").click()
    gp.get_by_test_id("search-results").get_by_role("link").first.click()
    patient_url = gp.url
    gp.get_by_role("link", name="Refer").click()
    gp.get_by_label("Refer to").select_option(
        label="Northgate Community Mental Health Team (Community mental health team)"
    )
    gp.get_by_label("Reason for referral").fill("Withdrawn, hearing voices for two weeks; wants help getting out more.")
    gp.get_by_role("button", name="Send referral").click()
    expect(gp.get_by_test_id("referral-status")).to_have_text("Received")

    hub = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _log_in(hub, url, "mhp")
    hub.get_by_role("link", name="Triage hub").click()
    item = hub.get_by_test_id("queue-item").filter(has_text="hearing voices for two weeks")
    expect(item).to_have_count(1)
    item.get_by_label("Not for us: redirect").check()
    item.get_by_label("Redirect to (if not for us)").select_option(label="Harmony Community Music")
    item.get_by_label("Rationale (for a redirect: the hand-over note)").fill(
        "Not psychosis on review; loneliness. Harmony's Tuesday group, warm hand-over to Joy."
    )
    item.get_by_label("The patient agrees to share with the service").check()
    item.get_by_role("button", name="Save decision").click()
    expect(hub.get_by_text("Saved: redirected")).to_be_visible()
    screenshot(hub, "triage-hub")

    # The VCSE partner now owns it, can open it, and accepts it with a named person.
    vcse = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _log_in(vcse, url, "vcse")
    vcse.get_by_role("link", name="Triage hub").click()
    offered = vcse.get_by_test_id("queue-item").filter(has_text="hearing voices for two weeks")
    expect(offered).to_contain_text("handed over by Northgate Community Mental Health Team")
    offered.get_by_label("Accept", exact=True).check()
    offered.get_by_label("Named person (if accepting)").select_option(label="Joy Campbell (VCSE worker)")
    offered.get_by_role("button", name="Save decision").click()
    expect(vcse.get_by_text("Saved: accepted")).to_be_visible()

    gp.goto(patient_url)
    referrals = gp.get_by_test_id("referral-list")
    expect(referrals.get_by_role("row", name=re.compile("Northgate Community Mental Health Team"))).to_contain_text(
        "Redirected"
    )
    expect(referrals.get_by_role("row", name=re.compile("Harmony Community Music"))).to_contain_text("Accepted")
    screenshot(gp, "gp-sees-redirect")
