import datetime as dt
from decimal import Decimal

import pytest

from concerto.people.models import EthnicGroup, Ethnicity, Patient


@pytest.mark.parametrize(
    ("born", "died", "today_age"),
    [
        (dt.date(1980, 5, 17), dt.date(2020, 5, 16), 39),  # the day before the 40th birthday
        (dt.date(1980, 5, 17), dt.date(2020, 5, 17), 40),
        (dt.date(2000, 2, 29), dt.date(2021, 2, 28), 20),  # leap-day birthday
    ],
)
def test_age_at_death_counts_whole_years(born, died, today_age):
    assert Patient(date_of_birth=born, date_of_death=died).age == today_age


def test_every_ons_category_maps_to_one_of_five_groups_or_not_stated():
    groups = {Ethnicity.group_of(code) for code in Ethnicity.values}
    assert groups == set(EthnicGroup)
    assert len(Ethnicity.values) == 20  # 19 ONS 2021 categories + not stated


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("31.40"), "31.4"),
        (Decimal("120.00"), "120"),
        (Decimal("4.65"), "4.65"),
        (120.0, "120"),
        (None, ""),
    ],
)
def test_measurements_display_plainly(value, shown):
    from concerto.web.templatetags.concerto import number

    assert number(value) == shown
