import pytest
from hypothesis import given
from hypothesis import strategies as st

from concerto.analytics.spc import Assurance, Variation, xmr


def _flagged(chart, rule):
    return [i for i, p in enumerate(chart.points) if rule in p.rules]


def test_limits_of_a_worked_example():
    # Mean 12; moving ranges 2, 1, 2, 1, 2 average 1.6; limits 12 ± 2.66 × 1.6.
    chart = xmr([10, 12, 11, 13, 12, 14], higher_is_better=True)
    assert chart.mean == pytest.approx(12)
    assert chart.mean_moving_range == pytest.approx(1.6)
    assert chart.upper_limit == pytest.approx(16.256)
    assert chart.lower_limit == pytest.approx(7.744)
    assert chart.upper_two_sigma == pytest.approx(12 + 2 / 3 * 4.256)
    assert [p.moving_range for p in chart.points] == [None, 2, 1, 2, 1, 2]
    assert chart.variation is Variation.COMMON
    assert not chart.reliable and chart.notes


def test_limits_of_a_longer_series():
    # 20 months alternating 60 and 62: mean 61, every moving range 2, limits 61 ± 5.32.
    chart = xmr([60, 62] * 10, higher_is_better=True, target=60)
    assert chart.mean == pytest.approx(61)
    assert chart.mean_moving_range == pytest.approx(2)
    assert chart.upper_limit == pytest.approx(66.32)
    assert chart.lower_limit == pytest.approx(55.68)
    assert chart.reliable and not chart.notes
    assert not any(p.special for p in chart.points)
    assert chart.assurance is Assurance.HIT_AND_MISS  # 60 lies between the limits


def test_a_point_beyond_the_upper_limit_is_special_cause():
    chart = xmr([10, 12, 11, 13, 12, 11, 10, 12, 11, 30], higher_is_better=True)
    assert _flagged(chart, "beyond_limits") == [9]
    assert chart.points[9].direction == "high"
    assert chart.variation is Variation.IMPROVING_HIGH
    assert xmr([10, 12, 11, 13, 12, 11, 10, 12, 11, 30], higher_is_better=False).variation is Variation.CONCERNING_HIGH


def test_a_run_of_seven_on_one_side_of_the_mean_is_a_shift_and_six_is_not():
    base = [10, 20, 10, 20, 10, 20]
    seven_low = [*base, 14, 13, 14, 13, 14, 13, 14]
    chart = xmr(seven_low, higher_is_better=True)
    assert chart.mean > 14
    assert _flagged(chart, "shift") == list(range(6, 13))
    assert chart.variation is Variation.CONCERNING_LOW
    six_low = [*base, 14, 13, 14, 13, 14, 13]
    assert _flagged(xmr(six_low, higher_is_better=True), "shift") == []


def test_a_point_on_the_mean_breaks_a_run():
    values = [26, 27, 11, 12, 11, 15, 12, 11, 13, 12]  # mean 150 / 10 = 15: the 15 splits seven low points
    chart = xmr(values, higher_is_better=True)
    assert chart.mean == 15
    assert _flagged(chart, "shift") == []


def test_seven_increasing_points_are_a_trend_and_an_equal_value_breaks_it():
    values = [20, 10, 20, 10, 11, 12, 13, 14, 15, 16]  # 10 → 16 is seven points rising
    chart = xmr(values, higher_is_better=False)
    assert _flagged(chart, "trend") == list(range(3, 10))
    assert chart.variation is Variation.CONCERNING_HIGH
    broken = [20, 10, 20, 10, 11, 12, 12, 14, 15, 16]
    assert _flagged(xmr(broken, higher_is_better=False), "trend") == []


def test_two_of_three_beyond_two_sigma_on_the_same_side():
    # Mean 268 / 24; moving ranges (19 × 4 + 4 × 10) / 23; 22 sits between two sigma and the limit.
    values = [8, 12] * 10 + [22, 12, 22, 12]
    chart = xmr(values, higher_is_better=True)
    assert chart.mean == pytest.approx(268 / 24)
    assert chart.upper_two_sigma == pytest.approx(268 / 24 + 2 / 3 * 2.66 * 116 / 23)
    assert chart.upper_two_sigma < 22 < chart.upper_limit
    assert _flagged(chart, "two_of_three") == [20, 22]
    assert _flagged(chart, "beyond_limits") == []


def test_no_direction_is_better_gives_a_neutral_icon_and_no_assurance():
    chart = xmr([10, 12, 11, 13, 12, 11, 10, 12, 11, 30], higher_is_better=None, target=12)
    assert chart.variation is Variation.NEITHER_HIGH
    assert chart.assurance is None


@pytest.mark.parametrize(
    ("target", "higher_is_better", "expected"),
    [
        (5, True, Assurance.MET),  # target below the lower limit
        (20, True, Assurance.NOT_MET),  # above the upper limit
        (12, True, Assurance.HIT_AND_MISS),
        (20, False, Assurance.MET),  # lower is better: target above the upper limit
        (5, False, Assurance.NOT_MET),
        (None, True, None),
    ],
)
def test_assurance_from_where_the_target_sits(target, higher_is_better, expected):
    chart = xmr([10, 12, 11, 13, 12, 14], higher_is_better=higher_is_better, target=target)
    assert chart.assurance is expected


def test_icons_have_text():
    assert all(v.label for v in Variation)
    assert all(a.label for a in Assurance)


@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=2, max_size=40))
def test_limits_are_symmetric_and_every_flag_has_a_direction(values):
    chart = xmr(values, higher_is_better=True)
    assert chart.upper_limit - chart.mean == pytest.approx(chart.mean - chart.lower_limit)
    assert chart.lower_limit <= chart.mean <= chart.upper_limit
    for p in chart.points:
        assert (p.direction is not None) == p.special
        if "beyond_limits" in p.rules:
            assert not chart.lower_limit <= p.value <= chart.upper_limit
