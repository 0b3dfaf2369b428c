import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.functional.conftest import query, screenshot
from tests.functional.test_patient_lookup import _log_in

pytestmark = pytest.mark.functional


def test_key_worker_sees_a_risk_alert_opens_the_charts_and_acknowledges_it(demo_server, page):
    url, db = demo_server["url"], demo_server["db"]
    (family,) = query(
        db,
        """
        SELECT p.family_name FROM outcomes_riskalert a JOIN people_patient p ON p.id = a.patient_id
        WHERE a.acknowledged_at IS NULL ORDER BY a.id LIMIT 1""",
    )[0]
    _log_in(page, url, "keyworker")
    page.get_by_role("link", name="Risk alerts").click()
    row = page.get_by_test_id("alert-row").filter(has_text=family.upper())
    expect(row).to_contain_text("PHQ-9")
    expect(row).to_contain_text("question 9")
    row.get_by_role("link", name=re.compile(family.upper())).click()

    # The patient's questionnaires: each chart is drawn by Vega (an SVG) beside its table.
    for key in ("dialog", "phq9", "gad7"):
        expect(page.get_by_test_id(f"chart-{key}").locator("svg")).to_be_visible()
        expect(page.get_by_test_id(f"chart-{key}")).not_to_contain_text("could not be drawn")
    expect(page.get_by_test_id("chart-dialog").locator("svg")).to_contain_text("Subjective quality of life")
    rows = page.get_by_test_id("table-dialog").locator("tbody tr")
    expect(rows).to_have_count(6)
    screenshot(page, "outcomes-charts")

    alert = page.get_by_test_id("alert").filter(has_text="Open")
    alert.get_by_label("What was done").fill("Phoned the same day; safe, safety plan reviewed together.")
    alert.get_by_role("button", name="Acknowledge alert").click()
    expect(page.get_by_text("Alert acknowledged.")).to_be_visible()
    expect(page.get_by_test_id("alert").first).to_contain_text("safety plan reviewed together")
    page.get_by_role("link", name="Risk alerts").click()
    expect(page.get_by_test_id("alert-row").filter(has_text=family.upper())).to_have_count(0)


def test_clinician_records_a_dialog_and_sees_it_charted(demo_server, page):
    url, db = demo_server["url"], demo_server["db"]
    (public_id,) = query(
        db,
        """
        SELECT p.public_id FROM outcomes_questionnaireresponse r JOIN people_patient p ON p.id = r.patient_id
        WHERE r.questionnaire_key = 'dialog' GROUP BY p.id ORDER BY p.id LIMIT 1""",
    )[0]
    before = query(db, "SELECT count(*) FROM outcomes_questionnaireresponse WHERE questionnaire_key = 'dialog'")[0][0]
    _log_in(page, url, "keyworker")
    page.goto(f"{url}/patients/{uuid.UUID(public_id)}/outcomes/")
    page.get_by_role("link", name="Record DIALOG").click()
    form = page.get_by_test_id("questionnaire-form")
    for n, domain in enumerate(form.locator("fieldset").all()):
        # Ratings and "more help?" questions alternate: rate 6, and ask for help with the first domain.
        options = domain.locator("input[type=radio]")
        if options.count() == 7:
            options.nth(5).check()
        else:
            options.nth(0 if n == 1 else 1).check()
    page.get_by_role("button", name="Save DIALOG").click()
    expect(page.get_by_text("DIALOG saved.")).to_be_visible()
    expect(page.get_by_test_id("scores")).to_contain_text("6.0")
    assert (
        query(db, "SELECT count(*) FROM outcomes_questionnaireresponse WHERE questionnaire_key = 'dialog'")[0][0]
        == before + 1
    )
    page.get_by_role("link", name="Back to questionnaires").click()
    expect(page.get_by_test_id("chart-dialog").locator("svg")).to_be_visible()
    screenshot(page, "outcomes-dialog-recorded")
