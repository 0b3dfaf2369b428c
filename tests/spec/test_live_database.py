"""Indicators on the app's own database (SQLite here, PostgreSQL in CI) through `live_database()`."""

import datetime as dt

from concerto.analytics import engines
from concerto.analytics.run import run_indicators

SCHIZOPHRENIA = "58214004"
BMI = "60621009"
ON = dt.date(2026, 10, 15)


def test_register_and_check_on_the_live_database(make, universe):
    make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), (BMI, dt.date(2026, 6, 1), 31))
    make((SCHIZOPHRENIA, dt.date(2020, 1, 1)))
    make()
    result = run_indicators(engines.live_database(), periods=[ON], indicators=["smi_register", "phc_bmi"])
    n1 = result[(result.organisation == universe.practice_n1.code) & (result.breakdown == "all")]
    figures = {r.indicator: (r.numerator, r.denominator) for r in n1.itertuples()}
    assert figures == {"smi_register": (2, 4), "phc_bmi": (1, 2)}  # Alice is registered at N1 too
