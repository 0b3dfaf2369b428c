"""The analyst dashboards through Django's test client, with the indicator engine replaced by
hand-made results for the fixture ICB (so the figures, and what disclosure control must do to
them, are known exactly)."""

import csv
import datetime as dt
import io
import json
import os
import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from django.core.management import call_command
from django.urls import reverse

from concerto.access.models import AuditEvent
from concerto.analytics import engines, run, selectors, store
from concerto.organisations.actions import create_organisation
from concerto.organisations.models import OrganisationKind as K
from tests.fixtures import client_as

MONTHS = selectors.reporting_months(dt.date(2026, 11, 15))
LATEST = MONTHS[-1]
# Practice → (all-six numerator, denominator); the PCNs and the ICB are sums of their practices.
PRACTICES = {"T00011": (31, 100), "T00012": (3, 5), "T00021": (40, 100)}
PARENTS = {"T00011": "U00001", "T00012": "U00001", "T00021": "U00002", "U00001": "QT1", "U00002": "QT1"}


def _numerator(practice: str, month: int) -> int:
    """Steady (wobbling by 5) for 17 months, then rising by 5 a month; the small practice stays put."""
    base = PRACTICES.get(practice, (20, 30))[0]
    if practice == "T00012":
        return base
    return base + (5 * (month % 2) if month < 17 else 5 * (month - 16))


def _results(practices=PRACTICES, parents=PARENTS) -> pd.DataFrame:
    levels = {"QT1": "icb", **{o: "practice" if o in practices else "pcn" for o in parents}}

    def under(org):
        return [org] if org in practices else [m for child, p in parents.items() if p == org for m in under(child)]

    rows = []
    for i, month in enumerate(MONTHS):
        for org, level in levels.items():
            num = sum(_numerator(p, i) for p in under(org))
            den = sum(practices[p][1] for p in under(org))
            for breakdown, group, share in [("all", "all", 1), ("sex", "F", 0.5), ("sex", "M", 0.5)]:
                n, d = round(num * share), round(den * share)
                rows.append(_row("phc_all_six", month, level, org, breakdown, group, n, d, 100 * n / d))
            rows.append(_row("smi_register", month, level, org, "all", "all", den, den, float(den)))
    return pd.DataFrame(rows)


def _row(indicator, period, level, organisation, breakdown, group, numerator, denominator, value):
    return {
        "indicator": indicator,
        "period": period,
        "level": level,
        "organisation": organisation,
        "breakdown": breakdown,
        "group": group,
        "numerator": numerator,
        "denominator": denominator,
        "value": value,
    }


class FakeRun:
    """Stands in for `run.run_indicators`: returns `results` for the months asked and records each call."""

    def __init__(self):
        self.calls = []
        self.results = _results()

    def __call__(self, con, *, periods=None, breakdowns=True, **kwargs):
        self.calls.append((con, periods, breakdowns))
        wanted = self.results[self.results.period.isin(periods)]
        return wanted if breakdowns else wanted[wanted.breakdown == "all"]


@pytest.fixture
def engine(monkeypatch, universe, settings, tmp_path):
    fake = FakeRun()
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(engines, "live_database", lambda: "live")
    monkeypatch.setattr(run, "run_indicators", fake)
    monkeypatch.setattr(selectors.clock, "today", lambda: dt.date(2026, 11, 15))
    monkeypatch.setattr(store, "BACKGROUND", False)
    return fake


class _Tables(HTMLParser):
    """Cell texts of each table on a page, by data-testid."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("data-testid", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            text = re.sub(r"\s+", " ", "".join(self._cell)).strip().removesuffix(" withheld")
            self._row.append(text)
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _tables(response) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(response.content.decode())
    return parser.tables


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def _numbers(rows):
    return [int(c.replace(",", "")) for row in rows for c in row if re.fullmatch(r"[\d,]+", c)]


def test_the_analyst_sees_only_published_figures(universe, engine):
    response = client_as(universe.m("analyst")).get(reverse("analytics:overview"))
    assert response.status_code == 200
    overview = _tables(response)["table-overview"]
    all_six = next(row for row in overview if row[0] == "All six physical health checks")
    # ICB in the latest month: 31 + 35 + 40 + 35 + 3 = 144 of 205, published as 145 of 205.
    assert all_six[1:5] == ["≥ 60.0%", "145", "205", "70.7%"]
    assert all_six[5] == "Special cause: improving, high"
    for n in _numbers(overview):
        assert n == 0 or (n > 7 and n % 5 == 0)


def test_a_small_practice_and_the_sibling_that_would_reveal_it_are_withheld(universe, engine):
    client = client_as(universe.m("analyst"))
    page = _tables(client.get(reverse("analytics:indicator", args=["phc_all_six"])))
    comparison = {row[0]: row for row in page["table-organisations"][1:]}
    assert comparison["North Two Surgery"][2:5] == ["*", "*", "*"]  # 3 of 5
    # Secondary: North PCN's 105 minus North One's 100 would give North Two's 5 back.
    assert comparison["North One Surgery"][2:5] == ["*", "*", "*"]
    assert comparison["North PCN"][2:5] == ["70", "105", "66.7"]  # 69 of 105
    assert comparison["South One Surgery"][2:5] == ["75", "100", "75.0"]


def test_the_indicator_page_has_a_chart_and_a_table_of_the_same_figures(universe, engine):
    response = client_as(universe.m("analyst")).get(
        reverse("analytics:indicator", args=["phc_all_six"]), {"organisation": "U00002"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-chart="xmr-spec"' in html
    assert "components/chart_scripts" not in html and "vega-embed.min.js" in html
    spec = json.loads(re.search(r'<script id="xmr-spec" type="application/json">(.*?)</script>', html, re.S)[1])
    plotted = next(iter(spec["datasets"].values()))
    series = _tables(response)["table-series"][1:]
    assert len(series) == len(MONTHS) == len(plotted)
    assert [f"{p['value']:.1f}" for p in plotted] == [row[3] for row in series]
    # South rises by 5 a month over its last 8 months: a trend, and beyond the upper limit at the end.
    specials = [row[7] for row in series]
    assert ["trend" in s for s in specials] == [False] * 16 + [True] * 8
    assert specials[-1].startswith("beyond a limit") and specials[-1].endswith("(high)")
    assert {"table-breakdown-sex", "table-organisations"} <= set(_tables(response))
    assert [row[0] for row in _tables(response)["table-breakdown-sex"][1:]] == ["Female", "Male"]
    assert '<caption class="nhsuk-table__caption">By sex</caption>' in html
    compared = json.loads(
        re.search(r'<script id="comparison-spec" type="application/json">(.*?)</script>', html, re.S)[1]
    )
    dots = {p["organisation"]: f"{p['value']:.1f}" for p in next(iter(compared["datasets"].values()))}
    shown = {row[0]: row[4] for row in _tables(response)["table-organisations"][1:] if row[4] != "*"}
    assert dots == shown and "North Two Surgery" not in dots


def test_csv_download_holds_exactly_the_table_shown(universe, engine):
    client = client_as(universe.m("analyst"))
    url = reverse("analytics:indicator", args=["phc_all_six"])
    page = _tables(client.get(url, {"organisation": "QT1"}))
    for key in ("series", "breakdown-sex", "organisations"):
        download = client.get(url, {"organisation": "QT1", "format": "csv", "table": key})
        assert download.status_code == 200
        assert _csv(download) == page[f"table-{key}"]
    overview = client.get(reverse("analytics:overview"), {"format": "csv", "table": "overview"})
    assert _csv(overview) == _tables(client.get(reverse("analytics:overview")))["table-overview"]


def test_csv_cells_cannot_become_formulas(universe, engine):
    create_organisation(code="T00013", name='=HYPERLINK("http://x")', kind=K.GP_PRACTICE, parent=universe.pcn_north)
    engine.results = _results({**PRACTICES, "T00013": (20, 30)}, {**PARENTS, "T00013": "U00001"})
    download = client_as(universe.m("analyst")).get(
        reverse("analytics:indicator", args=["phc_all_six"]), {"format": "csv", "table": "organisations"}
    )
    names = [row[0] for row in _csv(download)]
    assert '\'=HYPERLINK("http://x")' in names
    assert not any(name.startswith("=") for name in names)


@pytest.mark.parametrize("who", ["gp_n1", "mhp_north", "clinician_cmht", "linkworker_north", "sysadmin"])
def test_roles_without_aggregates_are_refused(universe, engine, who):
    client = client_as(universe.m(who))
    assert client.get(reverse("analytics:overview")).status_code == 403
    assert client.get(reverse("analytics:indicator", args=["phc_all_six"])).status_code == 403
    assert client.get(reverse("analytics:overview"), {"format": "csv", "table": "overview"}).status_code == 403
    assert engine.calls == []  # nothing was even computed


def test_unknown_indicators_tables_and_organisations_outside_the_icb_are_not_found(universe, engine):
    client = client_as(universe.m("analyst"))
    assert client.get(reverse("analytics:indicator", args=["no_such_thing"])).status_code == 404
    url = reverse("analytics:indicator", args=["phc_all_six"])
    assert client.get(url, {"format": "csv", "table": "patients"}).status_code == 404
    assert client.get(reverse("analytics:overview"), {"format": "csv", "table": "patients"}).status_code == 404
    assert client.get(url, {"organisation": "RT1"}).status_code == 404  # a trust: not on the dashboards


def test_results_are_computed_once_stored_protected_and_show_when(universe, engine):
    client = client_as(universe.m("analyst"))
    first = client.get(reverse("analytics:overview"))
    client.get(reverse("analytics:indicator", args=["phc_all_six"]))
    # Earlier months without breakdowns, the latest with them; then nothing until they go stale.
    # The latest month first with breakdowns, then the others newest first without; then nothing.
    assert engine.calls == [("live", [LATEST], True), *(("live", [m], False) for m in reversed(MONTHS[:-1]))]
    assert len(MONTHS) == 24 and MONTHS[0] == dt.date(2024, 11, 1) and dt.date(2026, 10, 1) == LATEST
    assert "October 2026" in first.content.decode()
    assert first.context["published"].as_of is not None
    stored = pd.concat([pd.read_parquet(p) for p in store.directory().glob("*.parquet")])
    assert len(stored) == len(engine.results[(engine.results.breakdown == "all") | (engine.results.period == LATEST)])
    for column in ("numerator", "denominator"):
        assert not stored[column].dropna().between(1, 7).any()


def test_the_latest_month_is_recomputed_when_stale(universe, engine):
    client = client_as(universe.m("analyst"))
    client.get(reverse("analytics:overview"))
    old = (dt.datetime.now(dt.UTC) - store.FRESH_FOR - dt.timedelta(minutes=1)).timestamp()
    os.utime(store.directory() / f"{LATEST:%Y-%m}.parquet", (old, old))
    engine.calls.clear()
    client.get(reverse("analytics:overview"))
    assert engine.calls == [("live", [LATEST], True)]


def test_each_dashboard_view_is_audited_without_naming_patients(universe, engine):
    client = client_as(universe.m("analyst"))
    before = AuditEvent.objects.count()
    client.get(reverse("analytics:overview"))
    client.get(reverse("analytics:indicator", args=["phc_all_six"]), {"format": "csv", "table": "series"})
    events = list(AuditEvent.objects.order_by("pk")[before:])
    assert [e.what for e in events] == ["indicator_overview", "indicator_export"]
    assert {e.role for e in events} == {"icb_analyst"}
    assert all(e.patient_id is None and e.nhs_number == "" for e in events)
    assert events[1].detail["indicator"] == "phc_all_six"


def test_navigation_shows_indicators_to_the_analyst_only(universe, engine):
    link = f'nhsuk-header__navigation-link" href="{reverse("analytics:overview")}"'
    assert link in client_as(universe.m("analyst")).get(reverse("home")).content.decode()
    assert link not in client_as(universe.m("gp_n1")).get(reverse("home")).content.decode()


def test_publish_indicators_computes_every_stale_month_up_front(universe, engine):
    call_command("publish_indicators", stdout=io.StringIO())
    assert sorted(p.stem for p in store.directory().glob("*.parquet")) == [f"{m:%Y-%m}" for m in MONTHS]
    calls = len(engine.calls)
    call_command("publish_indicators", stdout=io.StringIO())
    assert len(engine.calls) == calls  # all fresh: nothing recomputed
    call_command("publish_indicators", "--all", stdout=io.StringIO())
    assert len(engine.calls) == 2 * calls


def test_no_results_yet_shows_empty_tables_not_an_error(universe, engine):
    engine.results = _results().iloc[0:0]
    client = client_as(universe.m("analyst"))
    overview = client.get(reverse("analytics:overview"))
    assert overview.status_code == 200
    rows = _tables(overview)["table-overview"][1:]
    assert rows and all(row[2:5] == ["–", "–", "–"] and row[5] == "Not enough data" for row in rows)
    page = client.get(reverse("analytics:indicator", args=["phc_all_six"]))
    assert page.status_code == 200
    assert 'data-testid="no-chart"' in page.content.decode()
    assert "No figures have been computed" in page.content.decode()


def test_page_views_compute_in_the_background_and_show_what_is_ready(universe, engine, monkeypatch):
    monkeypatch.setattr(store, "BACKGROUND", True)
    client = client_as(universe.m("analyst"))
    first = client.get(reverse("analytics:overview")).content.decode()
    assert 'data-testid="computing"' in first and "Figures for 24 months are being computed" in first
    assert '<meta http-equiv="refresh" content="15">' in first
    store.wait()
    assert not (store.directory() / "computing.lock").exists()
    second = client.get(reverse("analytics:overview"))
    assert 'data-testid="computing"' not in second.content.decode()
    assert "refresh" not in second.content.decode()
    all_six = next(row for row in _tables(second)["table-overview"] if row[0] == "All six physical health checks")
    assert all_six[2] == "145"


@pytest.mark.slow
def test_the_real_indicator_run_on_the_live_database_publishes_only_protected_figures(
    universe, settings, tmp_path, monkeypatch
):
    # The fixture ICB has three patients: every count must come out as 0 or withheld.
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(store, "BACKGROUND", False)
    monkeypatch.setattr(selectors, "MONTHS", 2)
    client = client_as(universe.m("analyst"))
    response = client.get(reverse("analytics:overview"))
    assert response.status_code == 200
    assert len(list(store.directory().glob("*.parquet"))) == 2
    rows = _tables(response)["table-overview"][1:]
    assert {row[0] for row in rows} >= {"All six physical health checks", "People on the SMI register"}
    assert all(cell in ("0", "*", "–") for row in rows for cell in row[2:4])
    page = client.get(reverse("analytics:indicator", args=["phc_all_six"]), {"organisation": "T00011"})
    assert page.status_code == 200
