import pytest
from playwright.sync_api import expect

from tests.functional.conftest import screenshot
from tests.functional.test_patient_lookup import _log_in

pytestmark = pytest.mark.functional


def test_recording_a_check_takes_the_patient_off_the_overdue_list(demo_server, page):
    url = demo_server["url"]
    _log_in(page, url, "nurse")
    page.get_by_role("link", name="Recall").click()
    page.get_by_label("Status").select_option("overdue")
    page.get_by_role("button", name="Apply filters").click()
    first = page.locator("[data-testid=recall] tbody tr").first
    nhs = first.get_attribute("data-patient")
    expect(page.locator(f'tr[data-patient="{nhs}"]')).to_have_count(1)
    screenshot(page, "recall-worklist")

    first.get_by_role("link").first.click()
    expect(page.get_by_test_id("physical-health")).to_contain_text("Outstanding")
    page.get_by_role("link", name="Record a health check").click()
    page.get_by_label("Weight", exact=True).fill("78")
    page.get_by_label("Height", exact=True).fill("172")
    page.get_by_label("Systolic blood pressure", exact=True).fill("124")
    page.get_by_label("Diastolic blood pressure", exact=True).fill("78")
    page.get_by_label("Pulse", exact=True).fill("72")
    page.get_by_label("Total cholesterol", exact=True).fill("4.6")
    page.get_by_label("HbA1c", exact=True).fill("37")
    page.get_by_label("Alcohol (units a week)", exact=True).fill("4")
    page.get_by_label("Never smoked").check()
    page.get_by_role("button", name="Save health check").click()

    panel = page.get_by_test_id("physical-health")
    expect(page.get_by_text("Health check recorded.")).to_be_visible()
    expect(panel).to_contain_text("All six elements recorded in the last 12 months")
    screenshot(page, "physical-health-panel")

    page.get_by_role("link", name="Recall").click()
    page.get_by_label("Status").select_option("overdue")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("[data-testid=recall-count]")).to_be_visible()
    expect(page.locator(f'tr[data-patient="{nhs}"]')).to_have_count(0)
