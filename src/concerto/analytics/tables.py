"""The dashboards' tables, built once and rendered both as HTML and as CSV, so a download holds
exactly what the page shows (published figures, withheld cells as "*", icons as their text)."""

import csv
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
from django.http import HttpResponse

from concerto.analytics.selectors import Place, Published
from concerto.analytics.spc import XmR, xmr
from concerto.core.spreadsheet import formula_safe

WITHHELD = "*"
NO_FIGURE = "–"
_NUMBER = re.compile(r"-?[\d,]*\.?\d+")
BREAKDOWNS = {"imd_quintile": "IMD quintile", "ethnicity": "Ethnicity", "age_band": "Age band", "sex": "Sex"}
LEVEL_TITLES = {"icb": "ICB", "pcn": "PCN", "practice": "Practice"}
# NHS "Making Data Count" colours (blue improving, orange concerning, grey common cause, purple
# neither) as NHS.UK tag modifiers; the tag's text always says the same without colour.
VARIATION_TAGS = {"common": "grey", "improving": "blue", "concerning": "orange", "neither": "purple"}
ASSURANCE_TAGS = {"consistently_met": "blue", "consistently_not_met": "orange", "hit_and_miss": "grey"}


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool = False
    tag: str = ""  # an NHS.UK tag colour: the text is shown as a tag
    href: str = ""

    @property
    def withheld(self) -> bool:
        return self.text == WITHHELD


@dataclass(frozen=True)
class Table:
    key: str
    caption: str
    headers: list[tuple[str, bool]]  # (title, numeric)
    rows: list[list[Cell]] = field(default_factory=list)


def format_value(value, unit: str) -> str:
    if value is None or pd.isna(value):
        return WITHHELD
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "index":
        return f"{value:.2f}"
    return f"{value:.1f}"


def _with_unit(value, unit: str) -> str:
    if value is None:
        return WITHHELD
    return format_value(value, unit) + {"%": "%", "days": " days"}.get(unit, "")


def count(value) -> Cell:
    return Cell(WITHHELD if value is pd.NA or pd.isna(value) else f"{int(value):,}", numeric=True)


def unit_label(unit: str) -> str:
    return {"%": "%", "days": "days", "count": "number", "index": "index"}.get(unit, unit)


def series(published: Published, indicator: str, place: Place) -> pd.DataFrame:
    """The organisation's monthly published figures, oldest first."""
    r = published.results
    rows = r[(r.indicator == indicator) & (r.organisation == place.code) & (r.breakdown == "all")]
    return rows.sort_values("period").reset_index(drop=True)


def chart_for(rows: pd.DataFrame, indicator) -> XmR | None:
    """The XmR chart of the published values (withheld months left out), if there are two or more."""
    values = [v for v in rows.value if v is not None]
    if len(values) < 2:
        return None
    return xmr(values, higher_is_better=indicator.higher_is_better, target=indicator.target)


def variation_cell(chart: XmR | None) -> Cell:
    if chart is None:
        return Cell("Not enough data")
    return Cell(chart.variation.label, tag=VARIATION_TAGS[chart.variation.kind])


def assurance_cell(chart: XmR | None) -> Cell:
    if chart is None or chart.assurance is None:
        return Cell("No target" if chart is not None else "Not enough data")
    return Cell(chart.assurance.label, tag=ASSURANCE_TAGS[chart.assurance.value])


def target_text(indicator) -> str:
    if indicator.target is None:
        return NO_FIGURE
    sign = "≥" if indicator.higher_is_better else "≤"
    return f"{sign} {_with_unit(indicator.target, indicator.unit)}"


def overview(published: Published, indicators: Iterable, place: Place, link) -> Table:
    """Every indicator for one organisation in the latest month, against its standard."""
    table = Table(
        "overview",
        f"{place.name}: latest month",
        [
            ("Indicator", False),
            ("Target", False),
            ("Numerator", True),
            ("Denominator", True),
            ("Value", True),
            ("Variation", False),
            ("Assurance", False),
        ],
    )
    latest = published.latest_period
    for indicator in indicators:
        rows = series(published, indicator.key, place)
        now = rows[rows.period == latest]
        if len(now):
            value = now.value.iloc[0]
            figures = [
                count(now.numerator.iloc[0]),
                count(now.denominator.iloc[0]),
                Cell(_with_unit(value, indicator.unit), numeric=True),
            ]
        else:  # not computed for this organisation and month: nothing withheld, nothing to show
            figures = [Cell(NO_FIGURE, numeric=True)] * 3
        chart = chart_for(rows, indicator)
        table.rows.append(
            [
                Cell(indicator.title, href=link(indicator.key)),
                Cell(target_text(indicator)),
                *figures,
                variation_cell(chart),
                assurance_cell(chart),
            ]
        )
    return table


def _special(point) -> str:
    names = {
        "beyond_limits": "beyond a limit",
        "shift": "shift",
        "trend": "trend",
        "two_of_three": "two of three near a limit",
    }
    return ", ".join(names[r] for r in sorted(point.rules)) + f" ({point.direction})" if point.special else ""


def monthly(rows: pd.DataFrame, indicator, chart: XmR | None) -> Table:
    """The chart's figures month by month: what it plots, including its limits and special causes."""
    unit = unit_label(indicator.unit)
    table = Table(
        "series",
        "Month by month",
        [
            ("Month", False),
            ("Numerator", True),
            ("Denominator", True),
            (f"Value ({unit})", True),
            ("Mean", True),
            ("Lower limit", True),
            ("Upper limit", True),
            ("Special cause", False),
        ],
    )
    points = iter(chart.points if chart else [])
    for row in rows.itertuples():
        point = next(points) if chart and row.value is not None else None
        limits = (
            [format_value(x, indicator.unit) for x in (chart.mean, chart.lower_limit, chart.upper_limit)]
            if chart
            else ["–"] * 3
        )
        table.rows.append(
            [
                Cell(month(row.period)),
                count(row.numerator),
                count(row.denominator),
                Cell(format_value(row.value, indicator.unit), numeric=True),
                *(Cell(x, numeric=True) for x in limits),
                Cell(_special(point) if point else ""),
            ]
        )
    return table


def breakdown_caption(key: str) -> str:
    """ "By IMD quintile", "By age band": lower case, but an acronym keeps its capitals."""
    title = BREAKDOWNS[key]
    return f"By {title if title.split()[0].isupper() else title.lower()}"


def breakdowns(published: Published, indicator, place: Place) -> list[Table]:
    """The latest month by IMD quintile, ethnicity, age band and sex."""
    r = published.results
    latest = r[(r.indicator == indicator.key) & (r.organisation == place.code) & (r.period == published.latest_period)]
    tables = []
    for key, title in BREAKDOWNS.items():
        rows = latest[latest.breakdown == key].sort_values("group")
        table = Table(
            f"breakdown-{key}",
            breakdown_caption(key),
            [
                (title, False),
                ("Numerator", True),
                ("Denominator", True),
                (f"Value ({unit_label(indicator.unit)})", True),
            ],
        )
        for row in rows.itertuples():
            table.rows.append(
                [
                    Cell(group_label(key, row.group)),
                    count(row.numerator),
                    count(row.denominator),
                    Cell(format_value(row.value, indicator.unit), numeric=True),
                ]
            )
        if table.rows:
            tables.append(table)
    return tables


def comparison(published: Published, indicator) -> Table:
    """Every organisation of the ICB in the latest month, with its own variation icon."""
    table = Table(
        "organisations",
        "Organisations compared",
        [
            ("Organisation", False),
            ("Level", False),
            ("Numerator", True),
            ("Denominator", True),
            (f"Value ({unit_label(indicator.unit)})", True),
            ("Variation", False),
        ],
    )
    for place in published.places.values():
        rows = series(published, indicator.key, place)
        now = rows[rows.period == published.latest_period]
        if not len(now):
            continue
        table.rows.append(
            [
                Cell(place.name),
                Cell(LEVEL_TITLES[place.level]),
                count(now.numerator.iloc[0]),
                count(now.denominator.iloc[0]),
                Cell(format_value(now.value.iloc[0], indicator.unit), numeric=True),
                variation_cell(chart_for(rows, indicator)),
            ]
        )
    return table


GROUP_LABELS = {
    "imd_quintile": {"1": "1 (most deprived)", "5": "5 (least deprived)"},
    "sex": {"F": "Female", "M": "Male", "U": "Unknown"},
}


def group_label(breakdown: str, group) -> str:
    text = str(group)
    return GROUP_LABELS.get(breakdown, {}).get(text) or text.replace("_", " ").capitalize()


def latest_values(published: Published, indicator) -> list[tuple[str, str, float]]:
    """(organisation, level, value) for every organisation with a published value in the latest month."""
    points = []
    for place in published.places.values():
        rows = series(published, indicator.key, place)
        now = rows[rows.period == published.latest_period]
        if len(now) and now.value.iloc[0] is not None:
            points.append((place.name, LEVEL_TITLES[place.level], float(now.value.iloc[0])))
    return points


def month(period: dt.date) -> str:
    return period.strftime("%b %Y")


def _csv_cell(text: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (as the register's exports do); a
    plain number such as a negative change keeps its sign."""
    return text if _NUMBER.fullmatch(text) else formula_safe(text)


def as_csv(table: Table, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([_csv_cell(title) for title, _ in table.headers])
    for row in table.rows:
        writer.writerow([_csv_cell(cell.text) for cell in row])
    return response
