"""A patient signs in to the portal with a one-time link, completes DIALOG, and sees it with their plan."""

import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.functional.conftest import query, screenshot

pytestmark = pytest.mark.functional


def test_a_patient_completes_dialog_and_sees_it_in_their_plan(demo_server, page):
    url, db = demo_server["url"], demo_server["db"]
    # Prefer a patient whose care plan the demo wrote; any living patient otherwise.
    rows = query(
        db,
        """
        SELECT p.nhs_number FROM people_patient p
        LEFT JOIN careplans_planversion v ON v.patient_id = p.id AND v.kind = 'care'
        WHERE p.date_of_death IS NULL
        ORDER BY v.id IS NULL, p.id LIMIT 1""",
    )
    (nhs,) = rows[0]
    link = subprocess.run(
        [sys.executable, "-m", "concerto.manage", "portal_link", nhs, "--base-url", url],
        env=demo_server["env"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()

    page.goto(link)
    page.get_by_role("button", name="Continue to your care record").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your care,")

    page.get_by_role("link", name="Questionnaires").first.click()
    page.get_by_role("link", name="Fill in DIALOG").click()
    # Unhappy with mental health (1) and job situation (3), wanting help with both; content elsewhere.
    for n in range(1, 12):
        page.locator(f"input[name='{n}'][value='{3 if n in (1, 3) else 6}']").check()
        page.locator(f"input[name='{n}-help'][value='{'yes' if n in (1, 3) else 'no'}']").check()
    screenshot(page, "portal-dialog-form")
    page.get_by_role("button", name="Send my answers").click()

    scores = page.get_by_test_id("scores-dialog")
    expect(scores).to_be_visible()
    expect(scores.locator("svg").first).to_be_visible()  # the chart drew (CSP-safe Vega)
    screenshot(page, "portal-dialog-scores")

    page.get_by_role("link", name="Care plan").first.click()
    wants_help = page.get_by_test_id("dialog-wants-help")
    expect(wants_help).to_contain_text("Mental health")
    expect(wants_help).to_contain_text("Job situation")
    expect(wants_help).not_to_contain_text("Physical health")
    screenshot(page, "portal-plan-with-dialog")

    # Another patient's referral id answers 404 in the portal.
    other = query(
        db,
        "SELECT r.id FROM referrals_referral r JOIN people_patient p ON p.id = r.patient_id WHERE p.nhs_number != ?",
        nhs,
    )
    if other:
        assert page.goto(f"{url}/my/referrals/{other[0][0]}/").status == 404
