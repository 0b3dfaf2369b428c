import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.functional.conftest import screenshot
from tests.functional.test_patient_lookup import _log_in

pytestmark = pytest.mark.functional

# The first view starts computing the indicators on the demo database in the background (latest
# month first); the page reloads itself until they are ready. Bounded waits, no sleeps.
COMPUTING_MS = 300_000
WATCH_CSP = (
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective));"
)


def _counts(page, table: str, columns: list[int]) -> list[int]:
    cells = page.locator(f"[data-testid=table-{table}] tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))"
    )
    return [int(row[i].replace(",", "")) for row in cells for i in columns if re.fullmatch(r"[\d,]+", row[i])]


def _script_or_style_violations(page) -> list[str]:
    return [v for v in page.evaluate("window.__violations") if v.startswith(("script-src", "style-src"))]


def test_analyst_opens_the_dashboard_and_the_chart_draws(demo_server, page):
    url = demo_server["url"]
    page.add_init_script(WATCH_CSP)
    chart_errors: list[str] = []
    page.on("pageerror", lambda error: chart_errors.append(str(error)))

    _log_in(page, url, "analyst")
    page.get_by_role("link", name="Indicators", exact=True).click()
    expect(page.get_by_role("heading", name="Indicators", exact=True)).to_be_visible()
    expect(page.get_by_test_id("as-of")).to_be_visible(timeout=COMPUTING_MS)  # the latest month is in
    overview = page.get_by_test_id("table-overview")
    expect(overview).to_contain_text("All six physical health checks")
    for n in _counts(page, "overview", [2, 3]):
        assert n == 0 or (n > 7 and n % 5 == 0)
    assert _script_or_style_violations(page) == []
    screenshot(page, "analytics-overview")

    link = overview.get_by_role("link", name="All six physical health checks")
    page.goto(url + link.get_attribute("href"))  # not a click: the page may be about to reload itself
    expect(page.get_by_role("heading", name="All six physical health checks")).to_be_visible()
    chart = page.get_by_test_id("xmr-chart")
    expect(chart.locator("svg").first).to_be_visible(timeout=COMPUTING_MS)  # two months: a chart
    expect(chart.locator("svg .mark-symbol path").first).to_be_attached()  # the monthly points
    for n in _counts(page, "organisations", [2, 3]):
        assert n == 0 or (n > 7 and n % 5 == 0)
    assert _script_or_style_violations(page) == []
    assert chart_errors == []
    screenshot(page, "analytics-indicator")

    download = page.request.get(page.url.split("#")[0] + ("&" if "?" in page.url else "?") + "format=csv&table=series")
    assert download.ok and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.text())))
    assert rows[0][:3] == ["Month", "Numerator", "Denominator"]
    for row in rows[1:]:
        for cell in row[1:3]:
            assert cell == "*" or int(cell.replace(",", "")) == 0 or int(cell.replace(",", "")) % 5 == 0
