import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concerto.analytics.disclosure import SUPPRESS_AT_MOST, protect, publish_count

PERIOD = dt.date(2026, 10, 1)
UNITS = {"checks": "%", "wait": "days", "register": "count"}


def test_counts_one_to_seven_are_withheld_zero_is_published_others_round_to_five():
    assert [publish_count(n) for n in range(0, 14)] == [0, *[None] * 7, 10, 10, 10, 10, 10, 15]
    assert publish_count(17) == 15
    assert publish_count(18) == 20
    assert publish_count(None) is None
    with pytest.raises(ValueError):
        publish_count(-1)


@given(st.integers(min_value=0, max_value=10**9))
def test_a_published_count_is_never_small_always_a_multiple_of_five_and_close(count):
    published = publish_count(count)
    if published is None:
        assert 1 <= count <= SUPPRESS_AT_MOST
    else:
        assert not 1 <= published <= SUPPRESS_AT_MOST
        assert published % 5 == 0
        assert abs(published - count) <= 2


def _row(org, level, numerator, denominator, *, indicator="checks", breakdown="all", group="all", value=None):
    if value is None and denominator:
        value = 100 * numerator / denominator
    return {
        "indicator": indicator,
        "period": PERIOD,
        "level": level,
        "organisation": org,
        "breakdown": breakdown,
        "group": group,
        "numerator": numerator,
        "denominator": denominator,
        "value": value,
    }


def _published(frame, org, breakdown="all", group="all"):
    row = frame[(frame.organisation == org) & (frame.breakdown == breakdown) & (frame.group == group)]
    assert len(row) == 1
    return row.iloc[0]


def test_rates_come_from_the_rounded_counts_and_withheld_counts_withhold_the_rate():
    frame = pd.DataFrame(
        [
            _row("P1", "practice", 12, 18),  # 10 of 20: 50%, not 66.7%
            _row("P2", "practice", 5, 40),  # numerator withheld, so the rate is too
            _row("P3", "practice", 0, 6),  # denominator withheld: the zero numerator is withheld with it
        ]
    )
    out = protect(frame, units=UNITS)
    p1, p2, p3 = (_published(out, p) for p in ("P1", "P2", "P3"))
    assert (p1.numerator, p1.denominator, p1.value) == (10, 20, 50.0)
    assert p2.numerator is pd.NA and p2.denominator == 40 and p2.value is None
    assert p3.numerator is pd.NA and p3.denominator is pd.NA and p3.value is None


def test_non_rate_values_are_kept_only_when_their_counts_are_published():
    frame = pd.DataFrame(
        [
            _row("P1", "practice", 30, 30, indicator="wait", value=17.0),
            _row("P2", "practice", 3, 3, indicator="wait", value=40.0),
            _row("P1", "practice", 23, 23, indicator="register"),
        ]
    )
    out = protect(frame, units=UNITS)
    assert out.value.tolist() == [17.0, None, 25.0]


def test_a_single_withheld_group_takes_the_next_smallest_with_it():
    # 3 + 9 + 40 = 52: with only the 3 withheld, 50 - 10 - 40 would give it back.
    groups = [("F", 3), ("M", 9), ("U", 40)]
    frame = pd.DataFrame(
        [_row("P1", "practice", 52, 52)] + [_row("P1", "practice", n, n, breakdown="sex", group=g) for g, n in groups]
    )
    out = protect(frame, units=UNITS)
    assert _published(out, "P1", "sex", "F").denominator is pd.NA
    assert _published(out, "P1", "sex", "M").denominator is pd.NA  # secondary
    assert _published(out, "P1", "sex", "U").denominator == 40
    assert _published(out, "P1").denominator == 50


def test_a_zero_is_never_the_complement_a_published_zero_elsewhere_would_give_it_away():
    # Practice A: F 20, M 3, I 0, U 12. The PCN publishes I = 0, so every practice's I is 0: hiding A's
    # zero as the complement would leave M recoverable (35 - 20 - 10 - 0). The next non-zero part goes.
    a = [("F", 20), ("M", 3), ("I", 0), ("U", 12)]
    b = [("F", 30), ("M", 10), ("I", 0), ("U", 10)]
    rows = [_row("A", "practice", 35, 35), _row("B", "practice", 50, 50), _row("X", "pcn", 85, 85)]
    rows += [_row("A", "practice", n, n, breakdown="sex", group=g) for g, n in a]
    rows += [_row("B", "practice", n, n, breakdown="sex", group=g) for g, n in b]
    rows += [_row("X", "pcn", x + y, x + y, breakdown="sex", group=g) for (g, x), (_, y) in zip(a, b, strict=True)]
    out = protect(pd.DataFrame(rows), units=UNITS, parents={"A": "X", "B": "X"})
    assert _published(out, "A", "sex", "M").denominator is pd.NA
    assert _published(out, "A", "sex", "I").denominator == 0  # zeros stay published
    assert _published(out, "A", "sex", "U").denominator is pd.NA  # the smallest non-zero part goes instead


def test_a_single_withheld_practice_takes_a_sibling_with_it_within_its_pcn():
    frame = pd.DataFrame(
        [
            _row("PCN", "pcn", 60, 100),
            _row("P1", "practice", 2, 4),
            _row("P2", "practice", 20, 36),
            _row("P3", "practice", 38, 60),
        ]
    )
    out = protect(frame, units=UNITS, parents={"P1": "PCN", "P2": "PCN", "P3": "PCN"})
    assert _published(out, "P1").denominator is pd.NA
    assert _published(out, "P2").denominator is pd.NA
    assert _published(out, "P3").denominator == 60
    assert _published(out, "PCN").denominator == 100


def test_an_only_part_that_is_withheld_withholds_its_total():
    frame = pd.DataFrame([_row("PCN", "pcn", 10, 12), _row("P1", "practice", 3, 5)])
    out = protect(frame, units=UNITS, parents={"P1": "PCN"})
    assert _published(out, "PCN").denominator is pd.NA


@st.composite
def populations(draw):
    """Consistent results: practice group counts, summed up to totals, PCNs and an ICB."""
    pcns = draw(st.integers(1, 3))
    parents = {}
    practices = []
    for p in range(pcns):
        parents[f"PCN{p}"] = "ICB"
        for q in range(draw(st.integers(1, 3))):
            parents[f"P{p}{q}"] = f"PCN{p}"
            practices.append(f"P{p}{q}")
    groups = ["F", "M"] if draw(st.booleans()) else ["Q1", "Q2", "Q3"]
    breakdown = "sex" if groups[0] == "F" else "imd_quintile"
    cells: dict[tuple[str, str], tuple[int, int]] = {}
    for practice in practices:
        for g in groups:
            den = draw(st.integers(0, 25))
            cells[(practice, g)] = (draw(st.integers(0, den)), den)
    level = {"ICB": "icb", **{o: ("pcn" if o.startswith("PCN") else "practice") for o in parents}}

    def members(org):
        return [org] if org in practices else [c for c, parent in parents.items() if parent == org for c in members(c)]

    rows = []
    for org in level:
        under = [p for p in members(org) if p in practices]
        for g in groups:
            num = sum(cells[(p, g)][0] for p in under)
            den = sum(cells[(p, g)][1] for p in under)
            rows.append(_row(org, level[org], num, den, breakdown=breakdown, group=g))
        num = sum(cells[(p, g)][0] for p in under for g in groups)
        den = sum(cells[(p, g)][1] for p in under for g in groups)
        rows.append(_row(org, level[org], num, den))
    return pd.DataFrame(rows), parents


@settings(max_examples=150, deadline=None)
@given(populations())
def test_protected_results_never_show_small_counts_and_no_single_cell_can_be_recovered(population):
    frame, parents = population
    out = protect(frame, units=UNITS, parents=parents)
    for column in ("numerator", "denominator"):
        shown = out[column].dropna().astype(int)
        assert not shown.between(1, SUPPRESS_AT_MOST).any()
        assert (shown % 5 == 0).all()
        assert ((shown - frame.loc[shown.index, column]).abs() <= 2).all()
        # Every true small count is withheld.
        assert out.loc[frame[column].between(1, SUPPRESS_AT_MOST), column].isna().all()
    # A withheld denominator withholds its numerator; a rate is the published counts' rate.
    assert out.loc[out.denominator.isna(), "numerator"].isna().all()
    for row in out.itertuples():
        if row.numerator is pd.NA or row.denominator is pd.NA or row.denominator == 0:
            assert row.value is None
        else:
            assert row.value == pytest.approx(100 * row.numerator / row.denominator)
    # Where a total is published, never exactly one of its parts is withheld.
    for column in ("numerator", "denominator"):
        for (org, _), part in out[out.breakdown != "all"].groupby(["organisation", "breakdown"]):
            if _published(out, org)[column] is not pd.NA:
                assert part[column].isna().sum() != 1
        for parent in set(parents.values()):
            children = out[out.organisation.map(parents) == parent]
            for (breakdown, group), part in children.groupby(["breakdown", "group"]):
                if _published(out, parent, breakdown, group)[column] is not pd.NA:
                    assert part[column].isna().sum() != 1


def test_the_people_behind_the_units_gate_publication_and_are_not_published():
    """Contacts or referrals: 20 contacts of 3 people are withheld; 9 numerator contacts of 2
    people are withheld while their 40 contacts of 30 people are published."""
    few = _row("P1", "practice", 9, 20) | {"people": 3, "numerator_people": 3}
    many = _row("P2", "practice", 9, 40) | {"people": 30, "numerator_people": 2}
    plenty = _row("P3", "practice", 20, 40) | {"people": 30, "numerator_people": 12}
    out = protect(pd.DataFrame([few, many, plenty]), units=UNITS)
    assert "people" not in out and "numerator_people" not in out
    p1, p2, p3 = (_published(out, org) for org in ("P1", "P2", "P3"))
    assert p1.numerator is pd.NA and p1.denominator is pd.NA and p1.value is None
    assert p2.numerator is pd.NA and p2.denominator == 40 and p2.value is None
    assert (p3.numerator, p3.denominator, p3.value) == (20, 40, 50.0)
