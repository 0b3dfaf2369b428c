"""Run the indicator catalogue on any engine: `run_indicators(con, periods=…)`.

For each period the engine adds up every indicator's units by practice and breakdown cell
(IMD quintile × ethnic group × age band × sex, and the statistic's `measure`) in one query. The
cells are additive, so this module rolls them up to PCN and ICB and to each breakdown, and turns
them into figures, in pandas. Quantiles and means are computed from those exact counts, never by
an engine's own (often approximate) percentile function, so every engine gives the same answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import ibis
import numpy as np
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend

from concerto.analytics import engines
from concerto.analytics.catalogue import INDICATORS, Indicator
from concerto.analytics.cohorts import BREAKDOWN_COLUMNS, Cohort, Period, Tables
from concerto.core.errors import InvalidInput

COLUMNS = ["indicator", "period", "level", "organisation", "breakdown", "group", "numerator", "denominator", "value"]
LEVELS = ("practice", "pcn", "icb")
# Breakdown name → cell column.
BREAKDOWNS = {"imd_quintile": "imd_quintile", "ethnicity": "ethnic_group", "age_band": "age_band", "sex": "sex"}
CELL = ["practice_code", *BREAKDOWN_COLUMNS, "measure", "measure2"]

Progress = Callable[[str], None]


def run_indicators(
    con: BaseBackend,
    *,
    periods: list[dt.date] | None = None,
    indicators: list[str] | None = None,
    breakdowns: bool = True,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """One row per (indicator, period, level, organisation, breakdown, group): see COLUMNS.

    `periods` are months (any day in the month; figures are as at its last day); by default the
    latest month that has ended by the last date in the data. `progress(message)` is called as
    each period finishes.
    """
    chosen = _chosen(indicators)
    tables = Tables(con, engines.table)
    months = sorted({Period.of(p) for p in periods}, key=lambda p: p.month) if periods else [default_period(tables)]
    cells = []
    for period in months:
        cube = period_cells(con, tables, period, chosen)
        cells.append(cube.assign(period=period.month))
        if progress:
            progress(f"{period.month:%B %Y}")
    cube = pd.concat(cells, ignore_index=True) if cells else pd.DataFrame(columns=[*CELL, "indicator", "period"])
    parents = organisation_parents(tables)
    return figures(cube, chosen, parents, breakdowns=breakdowns, periods=[p.month for p in months])


def _chosen(keys: Iterable[str] | None) -> list[Indicator]:
    if keys is None:
        return list(INDICATORS.values())
    unknown = [k for k in keys if k not in INDICATORS]
    if unknown:
        raise InvalidInput(f"unknown indicators: {', '.join(unknown)}")
    return [INDICATORS[k] for k in keys]


def default_period(tables: Tables) -> Period:
    """The latest month whose last day is on or before the last event date in the data."""
    last = tables.clinical_events.date.max().to_pyarrow().as_py()
    if last is None:
        raise InvalidInput("the data hold no clinical events: no reporting period to default to")
    if isinstance(last, dt.datetime):
        last = last.date()
    if isinstance(last, str):  # SQLite
        last = dt.date.fromisoformat(last[:10])
    period = Period.of(last)
    return period if period.end == last else Period.of(period.month - dt.timedelta(days=1))


def period_cells(con: BaseBackend, tables: Tables, period: Period, chosen: list[Indicator]) -> pd.DataFrame:
    """Every chosen indicator's units added up by cell, for one period, in one query."""
    cohort = Cohort(tables, period, materialise=lambda expr: engines.materialise(con, expr))
    parts = []
    for indicator in chosen:
        units = indicator.compute(cohort)
        defaults = {"measure": 0, "measure2": 0, "denominator": 1}
        units = units.mutate(
            **{k: ibis.literal(v, "int64") for k, v in defaults.items() if k not in units.columns}
        ).select(
            "patient_id",
            numerator=_.numerator.cast("int64"),
            denominator=_.denominator.cast("int64"),
            measure=_.measure.cast("int64"),
            measure2=_.measure2.cast("int64"),
        )
        units = units.filter((units.numerator != 0) | (units.denominator != 0))
        joined = units.inner_join(cohort.population, "patient_id")
        part = joined.group_by(CELL).aggregate(
            numerator=joined.numerator.sum().cast("int64"),
            denominator=joined.denominator.sum().cast("int64"),
            units=joined.count().cast("int64"),
        )
        parts.append(part.mutate(indicator=ibis.literal(indicator.key, "string")))
    union = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    with engines.quiet():
        frame = union.to_pandas()
    for column in ("numerator", "denominator", "units", "measure", "measure2"):
        frame[column] = frame[column].fillna(0).astype("int64")
    for column in ("practice_code", *BREAKDOWN_COLUMNS):
        frame[column] = frame[column].astype(str)
    return frame


def organisation_parents(tables: Tables) -> dict[str, str]:
    """Organisation code → its parent's code (practice → PCN, PCN → ICB)."""
    with engines.quiet():
        orgs = tables.organisations.select("code", "parent_code").to_pandas()
    return {r.code: r.parent_code for r in orgs.itertuples() if r.parent_code}


def figures(
    cube: pd.DataFrame,
    chosen: list[Indicator],
    parents: dict[str, str],
    *,
    breakdowns: bool = True,
    periods: list[dt.date],
) -> pd.DataFrame:
    """Roll the cells up to each level and breakdown and compute each indicator's figure."""
    cube = cube.assign(
        practice=cube.practice_code,
        pcn=cube.practice_code.map(parents).fillna("unknown"),
    )
    cube["icb"] = cube.pcn.map(parents).fillna("unknown")
    kinds = {"all": None, **(BREAKDOWNS if breakdowns else {})}
    out = []
    for level in LEVELS:
        for breakdown, column in kinds.items():
            group = cube[column] if column else pd.Series("all", index=cube.index)
            keyed = cube.assign(organisation=cube[level], group=group)
            sums = keyed.groupby(
                ["indicator", "period", "organisation", "group", "measure", "measure2"], as_index=False, sort=False
            )[["numerator", "denominator", "units"]].sum()
            out.append(_statistics(sums, chosen).assign(level=level, breakdown=breakdown))
    result = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=COLUMNS)
    result = result[COLUMNS].sort_values(
        ["indicator", "period", "level", "organisation", "breakdown", "group"], ignore_index=True
    )
    result["numerator"] = result["numerator"].astype("int64")
    result["denominator"] = result["denominator"].astype("int64")
    result["value"] = result["value"].astype(object).where(result["value"].notna(), None)
    return result


def _statistics(sums: pd.DataFrame, chosen: list[Indicator]) -> pd.DataFrame:
    """One figure per (indicator, period, organisation, group) from its measure histogram."""
    by_key = {i.key: i for i in chosen}
    rows = []
    for (key, period, organisation, group), cells in sums.groupby(
        ["indicator", "period", "organisation", "group"], sort=False
    ):
        indicator = by_key[key]
        numerator, denominator = int(cells.numerator.sum()), int(cells.denominator.sum())
        value = statistic(indicator, cells)
        if indicator.statistic not in {"proportion", "count"}:
            numerator = denominator = int(cells.units.sum())  # the number of units measured
        rows.append((key, period, organisation, group, numerator, denominator, value))
    return pd.DataFrame(
        rows, columns=["indicator", "period", "organisation", "group", "numerator", "denominator", "value"]
    )


def statistic(indicator: Indicator, cells: pd.DataFrame) -> float | None:
    """The figure from cells with numerator, denominator, units, measure and measure2 columns."""
    kind = indicator.statistic
    if kind == "proportion":
        denominator = int(cells.denominator.sum())
        scale = 100.0 if indicator.unit == "%" else 1.0
        return None if denominator == 0 else scale * int(cells.numerator.sum()) / denominator
    if kind == "count":
        return float(cells.numerator.sum())
    measured = cells[cells.units > 0]
    if measured.empty:
        return None
    weights = measured.units.to_numpy(dtype="int64")
    values = measured.measure.to_numpy(dtype="int64")
    if kind in {"median", "p90"}:
        return weighted_quantile(values, weights, 0.5 if kind == "median" else 0.9)
    if kind == "mean_eighths":
        return float((values * weights).sum() / weights.sum() / 8)
    if kind == "bice_boxerman":
        contacts = values.astype(float)
        squares = measured.measure2.to_numpy(dtype="int64").astype(float)
        index = (squares - contacts) / (contacts * (contacts - 1))
        return float((index * weights).sum() / weights.sum())
    raise ValueError(kind)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The quantile of `values` repeated `weights` times, interpolated linearly between the two
    nearest ranks (NumPy's default method), computed from the counts without expanding them."""
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    cumulative = np.cumsum(weights)
    n = int(cumulative[-1])
    position = q * (n - 1)
    lower, upper = int(np.floor(position)), int(np.ceil(position))

    def at(rank: int) -> float:
        return float(values[np.searchsorted(cumulative, rank + 1)])

    low, high = at(lower), at(upper)
    return low + (high - low) * (position - lower)
