"""Run the indicator catalogue on any engine: `run_indicators(con, periods=…)`.

For each period the engine adds up every indicator's units by practice and breakdown cell
(IMD quintile × ethnic group × age band × sex, and the statistic's `measure`) in one query. The
cells are additive, so this module rolls them up to PCN and ICB and to each breakdown (one
in-process DuckDB query) and turns them into figures (pandas). Quantiles and means are computed
from those exact counts, never by an engine's own (often approximate) percentile function, so
every engine gives the same answer.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable

import duckdb
import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from ibis import _
from ibis.backends import BaseBackend

from concerto.analytics import disclosure, engines
from concerto.analytics.catalogue import INDICATORS, Indicator
from concerto.analytics.cohorts import BREAKDOWN_COLUMNS, Cohort, Period, Tables
from concerto.core.errors import InvalidInput

# The people behind each figure's units (units may be referrals or contacts): what disclosure
# control gates on, named there (`disclosure.PEOPLE`), never published themselves.
PEOPLE = [disclosure.PEOPLE["denominator"], disclosure.PEOPLE["numerator"]]
PUBLISHED = ["indicator", "period", "level", "organisation", "breakdown", "group", "numerator", "denominator", "value"]
COLUMNS = [*PUBLISHED, *PEOPLE]
SUMMED = ["numerator", "denominator", "units", *PEOPLE]
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
    try:
        with engines.quiet():
            return _run(con, periods=periods, indicators=indicators, breakdowns=breakdowns, progress=progress)
    finally:
        engines.release(con)


def _run(
    con: BaseBackend,
    *,
    periods: list[dt.date] | None,
    indicators: list[str] | None,
    breakdowns: bool,
    progress: Progress | None,
) -> pd.DataFrame:
    chosen = _chosen(indicators)
    tables = Tables(con, engines.table)
    months = sorted({Period.of(p) for p in periods}, key=lambda p: p.month) if periods else [default_period(tables)]
    cells = []
    for period in months:
        cube = period_cells(con, tables, period, chosen, breakdowns=breakdowns)
        cells.append(cube.assign(period=period.month))
        if progress:
            progress(f"{period.month:%B %Y}")
    cube = pd.concat(cells, ignore_index=True) if cells else pd.DataFrame(columns=[*CELL, "indicator", "period"])
    parents = organisation_parents(tables)
    return figures(cube, chosen, parents, breakdowns=breakdowns)


def _chosen(keys: Iterable[str] | None) -> list[Indicator]:
    if keys is None:
        return list(INDICATORS.values())
    unknown = [k for k in keys if k not in INDICATORS]
    if unknown:
        raise InvalidInput(f"unknown indicators: {', '.join(unknown)}")
    return [INDICATORS[k] for k in keys]


def default_period(tables: Tables) -> Period:
    """The latest month whose last day is on or before the last event date in the data."""
    with engines.quiet():
        last = tables.clinical_events.date.max().to_pyarrow().as_py()
    if last is None:
        raise InvalidInput("the data hold no clinical events: no reporting period to default to")
    if isinstance(last, dt.datetime):
        last = last.date()
    if isinstance(last, str):  # SQLite
        last = dt.date.fromisoformat(last[:10])
    period = Period.of(last)
    return period if period.end == last else Period.of(period.month - dt.timedelta(days=1))


def period_cells(
    con: BaseBackend, tables: Tables, period: Period, chosen: list[Indicator], *, breakdowns: bool = True
) -> pd.DataFrame:
    """Every chosen indicator's units added up by cell, for one period (by practice alone when
    no breakdowns are wanted: far fewer cells)."""
    # Indicators that share their units (the three waits) are computed once.
    by_compute: dict[object, list[str]] = {}
    for indicator in chosen:
        by_compute.setdefault(indicator.compute, []).append(indicator.key)
    shared = len(by_compute) > 1  # several queries read the cohorts
    cohort = Cohort(
        tables,
        period,
        materialise=engines.materialiser(con, shared=shared),
        breakdowns=breakdowns,
        shared_population=shared,
    )
    parts = [(keys, indicator_cells(cohort, compute)) for compute, keys in by_compute.items()]
    with engines.quiet():
        if con.name == "pyspark":
            # One query, compiled part by part (Ibis compiles one huge union slowly): Spark then
            # plans and schedules once per period instead of once per indicator.
            union = " UNION ALL ".join(
                f"SELECT *, {i} AS part FROM ({con.compile(cells)})"  # noqa: S608 (compiled by Ibis)
                for i, (_keys, cells) in enumerate(parts)
            )
            whole = con.raw_sql(union).toPandas()
            frames = [whole[whole.part == i].drop(columns="part") for i in range(len(parts))]
        else:
            frames = [engines.to_pandas(con, cells) for _keys, cells in parts]
    engines.discard(con)  # this period's cohorts: the next period makes its own
    labelled = [
        frame.assign(indicator=key) for (keys, _cells_), frame in zip(parts, frames, strict=True) for key in keys
    ]
    frame = pd.concat(labelled, ignore_index=True)
    for column in (*SUMMED, "measure", "measure2"):
        frame[column] = frame[column].fillna(0).astype("int64")
    for column in ("practice_code", *BREAKDOWN_COLUMNS):
        frame[column] = frame[column].astype(str)
    return frame


def indicator_cells(cohort: Cohort, compute) -> ibis.Table:
    """One indicator's units added up by practice, breakdown cell and measure."""
    units = compute(cohort)
    defaults = {"measure": 0, "measure2": 0, "denominator": 1}
    units = units.mutate(**{k: ibis.literal(v, "int64") for k, v in defaults.items() if k not in units.columns})
    units = units.select(
        "patient_id",
        numerator=_.numerator.cast("int64"),
        denominator=_.denominator.cast("int64"),
        measure=_.measure.cast("int64"),
        measure2=_.measure2.cast("int64"),
    )
    units = units.filter((units.numerator != 0) | (units.denominator != 0))
    joined = units.inner_join(cohort.population_of(units), "patient_id")
    # Each person is counted once, on one of their units (one that counts in the numerator if
    # any does), so the people behind the units add up across cells as the units do.
    person = ibis.window(
        group_by=joined.patient_id, order_by=[joined.numerator.desc(), joined.measure, joined.measure2]
    )
    first = ibis.row_number().over(person) == 0
    joined = joined.mutate(person=first.ifelse(1, 0), numerator_person=(first & (joined.numerator > 0)).ifelse(1, 0))
    return joined.group_by(CELL).aggregate(
        numerator=joined.numerator.sum().cast("int64"),
        denominator=joined.denominator.sum().cast("int64"),
        units=joined.count().cast("int64"),
        people=joined.person.sum().cast("int64"),
        numerator_people=joined.numerator_person.sum().cast("int64"),
    )


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
) -> pd.DataFrame:
    """Roll the cells up to each level and breakdown and compute each indicator's figure."""
    cube = cube.assign(
        practice=cube.practice_code,
        pcn=cube.practice_code.map(parents).fillna("unknown"),
    )
    cube["icb"] = cube.pcn.map(parents).fillna("unknown")
    kinds = {"all": None, **(BREAKDOWNS if breakdowns else {})}
    sums = _rolled_up(cube, kinds)
    result = _statistics(sums, chosen)[COLUMNS].copy()
    for column in ("indicator", "level", "organisation", "breakdown", "group"):
        result[column] = result[column].astype(str)  # also when empty (no rows: no strings to infer)
    result = result.sort_values(
        ["indicator", "period", "level", "organisation", "breakdown", "group"], ignore_index=True
    )
    for column in ("numerator", "denominator", *PEOPLE):
        result[column] = result[column].astype("int64")
    result["value"] = result["value"].astype(object).where(result["value"].notna(), None)
    return result


GROUP = ["level", "breakdown", "indicator", "period", "organisation", "group"]


def _rolled_up(cube: pd.DataFrame, kinds: dict[str, str | None]) -> pd.DataFrame:
    """The cells added up for every (level, breakdown) view, keyed by GROUP, `measure` and
    `measure2`: one DuckDB query over the frame, in this process (pandas took seconds to stack
    fifteen views of a quarter of a million cells and group them)."""
    views = " UNION ALL ".join(
        f"SELECT '{level}' AS level, '{breakdown}' AS breakdown, indicator, period, {level} AS organisation, "  # noqa: S608
        f'{column or "'all'"} AS "group", measure, measure2, {", ".join(f"sum({c})::BIGINT AS {c}" for c in SUMMED)} '
        "FROM cells GROUP BY ALL"
        for level in LEVELS
        for breakdown, column in kinds.items()
    )  # every name above is this module's own
    # Periods by number: dates would come back as timestamps.
    period_number, periods = pd.factorize(cube.period)
    cells = cube[["indicator", "practice", "pcn", "icb", *BREAKDOWN_COLUMNS, "measure", "measure2", *SUMMED]]
    cells = cells.assign(period=period_number)
    with _local().cursor() as local:
        local.register("cells", pa.Table.from_pandas(cells, preserve_index=False))
        # In one order whatever the engine's row order, so means add up their floats identically.
        ordered = f"SELECT * FROM ({views}) ORDER BY ALL"  # noqa: S608
        sums = local.sql(ordered).to_arrow_table().to_pandas()
    sums["period"] = periods[sums.period.to_numpy()]
    return sums


@functools.cache
def _local():
    """An in-memory DuckDB for the roll-up, made once per process (a cursor per call: safe
    across threads)."""
    return duckdb.connect()


def _statistics(sums: pd.DataFrame, chosen: list[Indicator]) -> pd.DataFrame:
    """One figure per (indicator, period, organisation, group) from its cells, vectorised."""
    by_key = {i.key: i for i in chosen}
    if sums.empty:  # nobody in any unit of any indicator
        return pd.DataFrame(columns=[*GROUP, "numerator", "denominator", *PEOPLE, "value"])
    totals = sums.groupby(GROUP, as_index=False, sort=False, observed=True)[SUMMED].sum()
    kind = totals.indicator.map({k: i.statistic for k, i in by_key.items()}).astype(object)
    scale = totals.indicator.map({k: 100.0 if i.unit == "%" else 1.0 for k, i in by_key.items()}).astype(float)
    value = pd.Series(np.nan, index=totals.index)
    proportion = (kind == "proportion") & (totals.denominator > 0)
    value[proportion] = scale[proportion] * totals.numerator[proportion] / totals.denominator[proportion]
    value[kind == "count"] = totals.numerator[kind == "count"].astype(float)
    measured = ~kind.isin(["proportion", "count"])
    if measured.any():
        totals.loc[measured, "numerator"] = totals.loc[measured, "units"]  # the number of units measured
        totals.loc[measured, "denominator"] = totals.loc[measured, "units"]
        totals.loc[measured, "numerator_people"] = totals.loc[measured, "people"]
    for statistic_kind, compute in (
        ("median", lambda f: _quantiles(f, 0.5)),
        ("p90", lambda f: _quantiles(f, 0.9)),
        ("mean_eighths", lambda f: _weighted_mean(f, f.measure / 8)),
        ("bice_boxerman", lambda f: _weighted_mean(f, _bice_boxerman(f))),
    ):
        keys = [k for k, i in by_key.items() if i.statistic == statistic_kind]
        if not keys:
            continue
        cells = sums[sums.indicator.isin(keys) & (sums.units > 0)]
        if cells.empty:
            continue
        found = compute(cells)
        merged = totals[GROUP].merge(found, on=GROUP, how="left")
        has = merged.figure.notna().to_numpy()
        value[has] = merged.figure[has].to_numpy()
    totals["value"] = value.astype(object).where(value.notna(), None)
    return totals.drop(columns="units")


def _weighted_mean(cells: pd.DataFrame, values: pd.Series) -> pd.DataFrame:
    weighted = cells.assign(w=values * cells.units)
    sums = weighted.groupby(GROUP, as_index=False, sort=False, observed=True)[["w", "units"]].sum()
    return sums.assign(figure=sums.w / sums.units)[[*GROUP, "figure"]]


def _bice_boxerman(cells: pd.DataFrame) -> pd.Series:
    contacts = cells.measure.astype(float)
    return (cells.measure2.astype(float) - contacts) / (contacts * (contacts - 1))


def _quantiles(cells: pd.DataFrame, q: float) -> pd.DataFrame:
    """The q-quantile of `measure` weighted by `units` per group, interpolated linearly between
    the two nearest ranks (NumPy's default), from the counts without expanding them."""
    per_value = cells.groupby([*GROUP, "measure"], as_index=False, sort=False, observed=True).units.sum()
    ordered = per_value.sort_values([*GROUP, "measure"], ignore_index=True)
    ordered["cumulative"] = ordered.groupby(GROUP, sort=False, observed=True).units.cumsum()
    ordered["n"] = ordered.groupby(GROUP, sort=False, observed=True).units.transform("sum")
    position = q * (ordered.n - 1)
    ordered["lower"], ordered["upper"] = np.floor(position), np.ceil(position)
    ordered["fraction"] = position - ordered.lower

    def value_at(rank: str) -> pd.DataFrame:
        # The value at 0-based rank r is the first whose cumulative count exceeds r.
        hit = ordered[ordered.cumulative > ordered[rank]]
        return hit.groupby(GROUP, as_index=False, sort=False, observed=True).first()[[*GROUP, "measure", "fraction"]]

    low, high = value_at("lower"), value_at("upper")
    both = low.merge(high[[*GROUP, "measure"]], on=GROUP, suffixes=("_low", "_high"))
    both["figure"] = both.measure_low + (both.measure_high - both.measure_low) * both.fraction
    return both[[*GROUP, "figure"]]
