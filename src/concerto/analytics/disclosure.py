"""Statistical disclosure control: the one place aggregates are made safe to publish.

Every aggregate that leaves the app or is shown to a non-clinical role goes through `protect`
(or `publish_count` for a single figure). The rules, as NHS England publishes counts:

1. **Primary suppression**: a count from 1 to 7 is not published. A true zero is published: it
   identifies nobody and hiding it would hide real gaps in care (e.g. no one treated within the
   standard), which is how NHS England's statistics treat zero. Where the units are not people
   (referrals, contacts), the count of *people* behind them decides too: eight contacts of one
   person are withheld like one person (`people`, `numerator_people` from `run_indicators`).
2. **Rounding**: every other count is rounded to the nearest 5 (8 → 10, 12 → 10, 13 → 15).
3. **Rates come from published counts**: a percentage is recomputed from the rounded numerator and
   denominator, never from the true ones, and is withheld when either is withheld. A count of a
   subset of a withheld denominator is withheld too.
4. **Secondary suppression**: where counts add up to a published total (the groups of a breakdown to
   the organisation's total; practices to their PCN, PCNs to the ICB, for the "all" row and for each
   breakdown group), a single withheld cell could be recovered by subtraction. So whenever a total is
   published and exactly one of its parts is withheld, the smallest other part is withheld too (or
   the total, if there is no other part), repeated until nothing changes.

Rounding alone already blurs subtraction (each figure is off by up to 2); secondary suppression
removes the single-missing-cell case. It does not defend against a determined linear-programming
attack across many releases: outputs stay inside the ICB analyst role (docs/analytics-dashboards.md).
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd

SUPPRESS_AT_MOST = 7
ROUND_TO = 5
COUNTS = ("numerator", "denominator")
# Count → the column of the number of people behind it, when its units may not be people.
PEOPLE = {"denominator": "people", "numerator": "numerator_people"}
# Indicators whose value is the numerator over the denominator, times this scale.
RATE_SCALE = {"%": 100.0}


def publish_count(count: int | None) -> int | None:
    """The published form of one count: None (withheld) for 1 to 7, else rounded to the nearest 5."""
    if count is None:
        return None
    if count < 0:
        raise ValueError(f"a count cannot be negative: {count}")
    if 1 <= count <= SUPPRESS_AT_MOST:
        return None
    return (count + ROUND_TO // 2) // ROUND_TO * ROUND_TO  # no ties: an integer is never x.5 fives


def _small(counts: np.ndarray) -> np.ndarray:
    return (counts >= 1) & (counts <= SUPPRESS_AT_MOST)


def _families(results: pd.DataFrame, parents: Mapping[str, str]) -> pd.DataFrame:
    """Edges (total row, part row): parts that add up to a total, by row position."""
    rows = results.reset_index(drop=True).assign(row=lambda f: np.arange(len(f)))
    edges = []
    # The groups of a breakdown add up to the organisation's "all" row.
    totals = rows[rows.breakdown == "all"][["indicator", "period", "level", "organisation", "row"]]
    parts = rows[rows.breakdown != "all"][["indicator", "period", "level", "organisation", "breakdown", "row"]]
    joined = parts.merge(totals, on=["indicator", "period", "level", "organisation"], suffixes=("", "_total"))
    edges.append(joined.assign(family=joined.row_total.astype(str) + "/" + joined.breakdown))
    # Organisations add up to their parent, row by row (the "all" row and each breakdown group).
    if parents:
        with_parent = rows.assign(parent=rows.organisation.map(parents)).dropna(subset=["parent"])
        joined = with_parent.merge(
            rows,
            left_on=["indicator", "period", "breakdown", "group", "parent"],
            right_on=["indicator", "period", "breakdown", "group", "organisation"],
            suffixes=("", "_total"),
        )
        edges.append(joined.assign(family=joined.row_total.astype(str) + "/organisations"))
    columns = ["family", "row_total", "row"]
    return pd.concat([e[columns] for e in edges], ignore_index=True) if edges else pd.DataFrame(columns=columns)


def _withheld(results: pd.DataFrame, parents: Mapping[str, str]) -> dict[str, np.ndarray]:
    """Which numerators and denominators to withhold: primary, then secondary to a fixed point."""
    true = {c: results[c].to_numpy(dtype="int64") for c in COUNTS}
    hide = {c: _small(true[c]) for c in COUNTS}
    # The people behind the units (absent: the units are people, so the counts themselves).
    for column, people in PEOPLE.items():
        if people in results:
            hide[column] |= _small(results[people].to_numpy(dtype="int64"))
    edges = _families(results, parents)
    while True:
        hide["numerator"] |= hide["denominator"]  # a subset of a withheld group is withheld
        changed = False
        for column in COUNTS:
            hidden = hide[column]
            e = edges.assign(
                hidden=hidden[edges.row], total_hidden=hidden[edges.row_total], value=true[column][edges.row]
            )
            exposed = e[~e.total_hidden]
            single = exposed.groupby("family").hidden.transform("sum") == 1
            at_risk = exposed[single]
            if at_risk.empty:
                continue
            # Never a zero as the complement: zeros are published elsewhere (a parent's zero forces every
            # child's), so hiding one protects nothing; with no non-zero part, the total is withheld.
            candidates = at_risk[~at_risk.hidden & (at_risk.value > 0)].sort_values(["value", "row"])
            extra = candidates.drop_duplicates("family").set_index("family").row
            lone = at_risk.family.drop_duplicates()
            without_candidate = at_risk[at_risk.family.isin(lone[~lone.isin(extra.index)])].row_total.unique()
            hidden[extra.to_numpy()] = True
            hidden[without_candidate] = True
            changed = True
        if not changed:
            return hide


def protect(
    results: pd.DataFrame, *, units: Mapping[str, str], parents: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """The publishable form of indicator results (columns as `run_indicators` returns them).

    `units` maps indicator key to its unit ("%", "days", "count", "index"); `parents` maps an
    organisation code to its parent's (practice → PCN, PCN → ICB) so that organisations that add up
    to their parent are protected together. Withheld counts and values are missing (pd.NA / None).
    The people counts are used, not published.
    """
    results = results.reset_index(drop=True)
    hide = _withheld(results, parents or {})
    published = results.drop(columns=[c for c in PEOPLE.values() if c in results])
    for column in COUNTS:
        rounded = (results[column].to_numpy(dtype="int64") + ROUND_TO // 2) // ROUND_TO * ROUND_TO
        published[column] = pd.array(np.where(hide[column], 0, rounded), dtype="Int64")
        published.loc[hide[column], column] = pd.NA
    values = [
        _published_value(units.get(indicator, ""), value, numerator, denominator)
        for indicator, value, numerator, denominator in zip(
            results.indicator, results.value, published.numerator, published.denominator, strict=True
        )
    ]
    published["value"] = pd.Series(values, dtype=object)  # object, so a withheld value stays None
    return published


def _published_value(unit: str, value, numerator, denominator) -> float | None:
    if numerator is pd.NA or denominator is pd.NA or value is None or pd.isna(value):
        return None
    if unit in RATE_SCALE:
        return None if denominator == 0 else RATE_SCALE[unit] * int(numerator) / int(denominator)
    if unit == "count":
        return float(numerator)
    return float(value)  # a median or an index: shown only when the people behind it are publishable
