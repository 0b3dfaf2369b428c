import pytest
from playwright.sync_api import expect

from tests.functional.conftest import query, screenshot
from tests.functional.test_patient_lookup import _log_in

pytestmark = pytest.mark.functional


def _open_care_plan(page, url, username, nhs):
    _log_in(page, url, username)
    page.get_by_role("link", name="Find a patient").first.click()
    page.get_by_label("NHS number or name").fill(f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}")
    page.get_by_role("button", name="Search").click()
    page.get_by_test_id("search-results").get_by_role("link").first.click()
    page.get_by_test_id("care-plan-section").get_by_role("link", name="Care and support plan").click()


def test_a_key_worker_edits_the_plan_and_a_conflicting_edit_keeps_both_texts(demo_server, browser):
    url, db = demo_server["url"], demo_server["db"]
    # A demo patient whose care plan the CMHT key worker wrote (demo data) and only agreed versions so far.
    (nhs, versions) = query(
        db,
        """
        SELECT p.nhs_number, MAX(v.number) FROM people_patient p
        JOIN careplans_planversion v ON v.patient_id = p.id AND v.kind = 'care'
        GROUP BY p.id HAVING SUM(v.status = 'draft') = 1 ORDER BY p.id LIMIT 1""",
    )[0]

    keyworker = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _open_care_plan(keyworker, url, "keyworker", nhs)
    expect(keyworker.get_by_test_id("version-meta")).to_contain_text(f"Version {versions}")
    expect(keyworker.get_by_test_id("version-meta")).to_contain_text("Agreed")
    keyworker.get_by_role("link", name="Edit the plan").click()

    # The PCN mental health practitioner opens the same plan and saves first.
    mhp = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _open_care_plan(mhp, url, "mhp", nhs)
    mhp.get_by_role("link", name="Edit the plan").click()
    mhp.get_by_label("What matters to me").fill("Seeing my grandson every Saturday, in my own words.")
    mhp.get_by_label("What changed (optional)").fill("Talked about weekends")
    mhp.get_by_role("button", name="Save").click()
    expect(mhp.get_by_text(f"Saved as version {versions + 1}")).to_be_visible()

    # The key worker, still on the version they opened, saves different words: a conflict, nothing lost.
    keyworker.get_by_label("What matters to me").fill("Getting back to the allotment twice a week.")
    keyworker.get_by_role("button", name="Save").click()
    expect(keyworker.get_by_test_id("conflict")).to_contain_text(
        f"saved a newer version of this plan (version {versions + 1})"
    )
    expect(keyworker.get_by_test_id("their-version")).to_contain_text("Seeing my grandson every Saturday")
    expect(keyworker.get_by_label("What matters to me")).to_have_value("Getting back to the allotment twice a week.")
    screenshot(keyworker, "careplan-conflict")

    # They bring both together and save on top of the other version.
    keyworker.get_by_label("What matters to me").fill(
        "Seeing my grandson every Saturday. Getting back to the allotment twice a week."
    )
    keyworker.get_by_role("button", name="Save my version").click()
    expect(keyworker.get_by_text(f"Saved as version {versions + 2}")).to_be_visible()
    expect(keyworker.get_by_test_id("what-matters")).to_contain_text("Getting back to the allotment")
    expect(keyworker.get_by_test_id("not-agreed")).to_be_visible()
    screenshot(keyworker, "careplan-after-merge")

    keyworker.get_by_role("link", name="see what changed since").click()
    expect(keyworker.locator("[data-change=added]").first).to_contain_text("allotment")
    screenshot(keyworker, "careplan-diff")
    # The crisis plan lists the named contacts and always the national crisis lines.
    keyworker.go_back()
    keyworker.get_by_role("link", name="Crisis and relapse plan").click()
    contacts = keyworker.get_by_test_id("crisis-contacts")
    expect(contacts).to_contain_text("01632 960100")
    expect(contacts.get_by_test_id("national-fallback")).to_have_count(3)
    expect(contacts).to_contain_text("NHS 111, then option 2")
    screenshot(keyworker, "careplan-crisis")
    saved = query(
        db,
        """SELECT v.number, v.content FROM careplans_planversion v JOIN people_patient p ON p.id = v.patient_id
        WHERE p.nhs_number = ? AND v.kind = 'care' ORDER BY v.number""",
        nhs,
    )
    assert [n for n, _ in saved] == list(range(1, versions + 3))
    assert "Seeing my grandson every Saturday, in my own words." in saved[-2][1]
