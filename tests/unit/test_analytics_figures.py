"""Figures from cells: quantiles and indices computed from counts match the textbook formulas."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concerto.analytics.cohorts import Period
from concerto.analytics.run import GROUP, _bice_boxerman, _quantiles


def cells(values: list[int], weights: list[int]) -> pd.DataFrame:
    key = dict.fromkeys(GROUP, "x")
    return pd.DataFrame(
        [{**key, "measure": v, "measure2": 0, "units": w} for v, w in zip(values, weights, strict=True)]
    )


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 400), st.integers(1, 5)), min_size=1, max_size=30), st.sampled_from([0.5, 0.9])
)
def test_quantiles_from_counts_equal_numpy_on_the_expanded_values(pairs, q):
    values, weights = [p[0] for p in pairs], [p[1] for p in pairs]
    got = _quantiles(cells(values, weights), q).figure.item()
    assert got == pytest.approx(np.percentile(np.repeat(values, weights), q * 100))


def test_bice_boxerman_index_of_known_patterns():
    # Always the same person: 1. A different person every time: 0. Two with A, one with B: 1/3.
    frame = pd.DataFrame({"measure": [4, 3, 3], "measure2": [16, 3, 5]})
    assert _bice_boxerman(frame).tolist() == pytest.approx([1.0, 0.0, 1 / 3])


@pytest.mark.parametrize(
    ("day", "end", "year_before"),
    [
        (dt.date(2026, 10, 15), dt.date(2026, 10, 31), dt.date(2025, 10, 31)),
        (dt.date(2024, 2, 1), dt.date(2024, 2, 29), dt.date(2023, 2, 28)),
    ],
)
def test_a_period_reports_as_at_the_last_day_of_its_month(day, end, year_before):
    period = Period.of(day)
    assert period.month == day.replace(day=1)
    assert period.end == end
    assert period.months_before_end(12) == year_before


def test_breakdown_captions_keep_an_acronym_in_capitals():
    from concerto.analytics.tables import breakdown_caption

    assert [breakdown_caption(k) for k in ("imd_quintile", "ethnicity", "age_band", "sex")] == [
        "By IMD quintile",
        "By ethnicity",
        "By age band",
        "By sex",
    ]
