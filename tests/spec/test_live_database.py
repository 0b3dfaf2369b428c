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


def test_an_extract_of_the_app_gives_the_same_figures_on_duckdb(make, universe, tmp_path):
    import pandas as pd
    import pyarrow.parquet as pq
    from django.core.management import call_command

    make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), (BMI, dt.date(2026, 6, 1), 31))
    make((SCHIZOPHRENIA, dt.date(2021, 1, 1)), practice="s1")
    call_command("extract", out=tmp_path)
    patients = pq.read_table(tmp_path / "patients.parquet").to_pydict()
    # Pseudonymised: no NHS numbers, names or postcodes leave the app.
    assert set(patients["nhs_number"]) == {None}
    assert set(patients["given_name"]) | set(patients["family_name"]) | set(patients["postcode"]) == {""}
    live = run_indicators(engines.live_database(), periods=[ON])
    extracted = run_indicators(engines.duckdb_parquet(tmp_path), periods=[ON])
    pd.testing.assert_frame_equal(live, extracted)
    icb = live[(live.level == "icb") & (live.breakdown == "all")].set_index("indicator")
    assert icb.loc["smi_register", "numerator"] == 2


def test_the_live_database_leaves_the_apps_connection_as_it_found_it(make, universe):
    from concerto.people.models import Patient

    make((SCHIZOPHRENIA, dt.date(2020, 1, 1)))
    run_indicators(engines.live_database(), periods=[ON], indicators=["smi_register"])
    # Still inside the test's transaction (nothing committed) and LIKE still ignores case.
    assert Patient.objects.filter(given_name__icontains="aLiCe").exists()


def test_a_live_connection_is_not_kept_once_a_run_is_done(make, universe):
    """The dashboards open a live connection per computation: nothing may hold on to it after."""
    import gc
    import weakref

    make((SCHIZOPHRENIA, dt.date(2020, 1, 1)))
    con = engines.live_database()
    first = run_indicators(con, periods=[ON], indicators=["smi_register"])
    again = run_indicators(con, periods=[ON], indicators=["smi_register"])  # a connection is reusable
    assert first.equals(again)
    gone = weakref.ref(con)
    del con
    gc.collect()
    assert gone() is None


def test_sqlite_lookups_are_indexed_so_semi_joins_do_not_scan_per_row():
    """SQLite runs a semi-join as a correlated EXISTS: without these indexes a practice's month
    took 34 s instead of 1.4 s (docs/analytics-dashboards.md)."""
    from concerto.analytics.cohorts import Cohort, Period, Tables
    from tests.spec.extracts import extract

    con = engines.from_tables("sqlite", extract())
    try:
        cohort = Cohort(Tables(con, engines.table), Period.of(ON), materialise=lambda e: engines.materialise(con, e))
        assert cohort.register.columns  # builds the code sets and a materialised cohort
        indexes = {r[0] for r in con.con.execute("SELECT tbl_name FROM sqlite_temp_master WHERE type = 'index'")}
        tables = {r[0] for r in con.con.execute("SELECT name FROM sqlite_temp_master WHERE type = 'table'")}
        assert tables and tables <= indexes  # the code set table and the register, each indexed
    finally:
        con.disconnect()
