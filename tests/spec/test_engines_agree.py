"""Hypothesis: random small populations give identical results on every engine."""

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concerto.analytics import engines
from concerto.analytics.cohorts import concepts
from concerto.analytics.run import run_indicators
from tests.spec.extracts import extract

PERIOD = dt.date(2026, 10, 1)
RECENT = st.dates(dt.date(2024, 6, 1), dt.date(2026, 12, 31))


def _first(concept: str) -> str:
    return sorted(concepts()[concept])[0]


CODES = {  # code → possible values
    "58214004": [None],  # schizophrenia
    "60621009": [25.0, 30.0, 35.5],  # BMI
    "271649006": [120.0, 140.0],  # systolic
    "1005671000000105": [5.0, 7.5],  # cholesterol
    "999791000000106": [40.0, 48.0],  # HbA1c
    "1082641000000106": [4.0, 14.0, 20.0],  # alcohol units
    "160603005": [None],  # light smoker (current)
    "266919005": [None],  # never smoked
}


@st.composite
def populations(draw):
    n = draw(st.integers(1, 10))
    ids = list(range(1, n + 1))
    pid = st.sampled_from(ids)
    remission, antipsychotic, lithium = _first("remission"), _first("antipsychotic"), _first("lithium")
    people = [
        {
            "patient_id": i,
            "date_of_birth": draw(st.dates(dt.date(1930, 1, 1), dt.date(2010, 12, 31))),
            "sex": draw(st.sampled_from(["F", "M", "U"])),
            "ethnic_group": draw(st.sampled_from(["white", "black", "asian", "mixed", "other", "not_stated"])),
            "imd_decile": draw(st.one_of(st.none(), st.integers(1, 10))),
            "date_of_death": draw(st.one_of(st.none(), RECENT)),
        }
        for i in ids
    ]
    registrations = [
        {
            "patient_id": i,
            "practice_code": draw(st.sampled_from(["A1", "A2"])),
            "start_date": draw(st.dates(dt.date(2000, 1, 1), dt.date(2026, 12, 31))),
        }
        for i in ids
    ]
    code = st.sampled_from([*CODES, remission])
    events = []
    for _ in range(draw(st.integers(0, 25))):
        c = draw(code)
        events.append(
            {
                "patient_id": draw(pid),
                "code": c,
                "date": draw(RECENT),
                "value": draw(st.sampled_from(CODES.get(c, [None]))),
            }
        )
    medications = [
        {"patient_id": draw(pid), "code": draw(st.sampled_from([antipsychotic, lithium])), "date": draw(RECENT)}
        for _ in range(draw(st.integers(0, 5)))
    ]
    referrals, episodes, contacts = [], [], []
    for r in range(1, draw(st.integers(0, 5)) + 1):
        clock = draw(RECENT)
        later = draw(st.one_of(st.none(), st.integers(0, 60)))
        when = None if later is None else clock + dt.timedelta(days=later)
        p = draw(pid)
        referrals.append(
            {
                "referral_id": r,
                "patient_id": p,
                "pathway": draw(st.sampled_from(["eip", "cmht", "ips"])),
                "clock_start": clock,
                "first_contact_on": when,
                "assessed_on": when,
                "treatment_started_on": when,
            }
        )
        episodes.append({"episode_id": r, "patient_id": p, "referral_id": r, "key_worker_id": draw(st.integers(1, 3))})
        for k in range(draw(st.integers(0, 4))):
            contacts.append(
                {
                    "contact_id": r * 10 + k,
                    "episode_id": r,
                    "patient_id": p,
                    "date": draw(RECENT),
                    "outcome": draw(st.sampled_from(["attended", "dna"])),
                    "staff_id": draw(st.integers(1, 3)),
                }
            )
    interventions = [
        {
            "patient_id": draw(pid),
            "kind": draw(st.sampled_from(["weight_management", "smoking_cessation"])),
            "date": draw(RECENT),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    responses = [
        {
            "response_id": k,
            "patient_id": draw(pid),
            "instrument": "dialog",
            "date": draw(RECENT),
            "score": draw(st.integers(8, 56)) / 8,
        }
        for k in range(draw(st.integers(0, 4)))
    ]
    return extract(
        patients=people,
        registrations=registrations,
        clinical_events=events,
        medications=medications,
        referrals=referrals,
        episodes=episodes,
        contacts=contacts,
        interventions=interventions,
        questionnaire_responses=responses,
    )


def run(kind, tables, session=None):
    con = engines.from_tables(kind, tables, session=session)
    try:
        return run_indicators(con, periods=[PERIOD])
    finally:
        if kind != "spark":  # the Spark session is shared
            con.disconnect()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(populations())
def test_sqlite_and_duckdb_agree(tables):
    pd.testing.assert_frame_equal(run("sqlite", tables), run("duckdb", tables))


@pytest.mark.spark
@pytest.mark.slow
@settings(
    max_examples=1,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(populations())
def test_spark_and_duckdb_agree(spark, tables):
    pd.testing.assert_frame_equal(run("spark", tables, spark), run("duckdb", tables))
