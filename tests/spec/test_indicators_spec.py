"""Every indicator on every engine from one hand-made extract, against figures worked out by hand.

Reporting month October 2026 (figures as at 31 October 2026). The people:

1. A1, schizophrenia since 2020: all six checks on 1 June 2026 with BMI 31 (weight management
   on 10 June), EIP and CMHT referrals, three attended contacts (two with the key worker), DIALOG
   3.5 → 4.25.
2. A1, schizophrenia: BMI on 31 Oct 2025 (exactly 12 months: does not count), systolic 150 on
   1 Nov 2025 (counts; abnormal, never followed up), slow EIP treatment, a CMHT wait of 40 days,
   IPS started, one attended contact.
3. A1, diagnosis 2019 then remission 2025, antipsychotics in September 2026: off the register,
   and a case-finding hit.
4. A2, lithium in August 2026 and no SMI code: on the register (lithium) and a case-finding hit.
5. A2, nothing.   6. A2, schizophrenia, died January 2026: nowhere.
7. A2, first diagnosed March 2026, never referred.   8. A2, first diagnosed February 2026,
   referred to the CMHT in January 2026.   9. A2, diagnosed 2015, nothing since.
"""

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from concerto.analytics import engines
from concerto.analytics.catalogue import INDICATORS
from concerto.analytics.cohorts import concepts
from concerto.analytics.disclosure import protect
from concerto.analytics.run import run_indicators
from tests.spec.extracts import ORGANISATIONS, extract

# The teams the hand-made contacts are with: a community mental health team and a crisis team.
TEAMS = [
    {"code": "CM1", "name": "CMHT", "kind": "mh_team", "team_type": "cmht", "parent_code": ""},
    {"code": "CR1", "name": "Crisis team", "kind": "mh_team", "team_type": "crisis", "parent_code": ""},
]

D = dt.date
PERIOD = D(2026, 10, 1)
BORN = D(1970, 1, 1)
SCHIZOPHRENIA = "58214004"
CHECK = {  # code: value, all normal except BMI
    "60621009": 31.0,
    "271649006": 120.0,
    "1091811000000102": 80.0,
    "1005671000000105": 5.0,
    "999791000000106": 40.0,
    "1082641000000106": 4.0,
    "266919005": None,  # never smoked
}


def first(concept: str) -> str:
    return sorted(concepts()[concept])[0]


def hand_made() -> dict:
    def person(pid, practice, *, born=BORN, sex="F", died=None, group="white", imd=3):
        return {
            "patient_id": pid,
            "date_of_birth": born,
            "sex": sex,
            "ethnic_group": group,
            "imd_decile": imd,
            "date_of_death": died,
            "_practice": practice,
        }

    people = [
        person(1, "A1", sex="M", group="black", imd=1),
        person(2, "A1", born=D(2000, 11, 1), imd=2),
        person(3, "A1"),
        person(4, "A2", sex="M", imd=9),
        person(5, "A2"),
        person(6, "A2", died=D(2026, 1, 1)),
        person(7, "A2", group="asian", imd=5),
        person(8, "A2", born=D(1990, 6, 30)),
        person(9, "A2", sex="M", imd=10),
    ]
    registrations = [
        {"patient_id": p["patient_id"], "practice_code": p.pop("_practice"), "start_date": D(2010, 1, 1)}
        for p in people
    ]
    ev = [
        *[(pid, SCHIZOPHRENIA, D(2020, 1, 1), None) for pid in (1, 2, 6)],
        *[(1, code, D(2026, 6, 1), value) for code, value in CHECK.items()],
        (2, "60621009", D(2025, 10, 31), 25.0),
        (2, "271649006", D(2025, 11, 1), 150.0),
        (3, SCHIZOPHRENIA, D(2019, 1, 1), None),
        (3, first("remission"), D(2025, 1, 1), None),
        (7, SCHIZOPHRENIA, D(2026, 3, 1), None),
        (8, SCHIZOPHRENIA, D(2026, 2, 1), None),
        (9, SCHIZOPHRENIA, D(2015, 1, 1), None),
    ]
    events = [{"patient_id": p, "code": c, "date": d, "value": v} for p, c, d, v in ev]
    medications = [
        {"patient_id": 3, "code": first("antipsychotic"), "date": D(2026, 9, 1)},
        {"patient_id": 4, "code": first("lithium"), "date": D(2026, 8, 1)},
    ]

    def referral(rid, pid, pathway, clock, **dates):
        return {"referral_id": rid, "patient_id": pid, "pathway": pathway, "clock_start": clock, **dates}

    referrals = [
        referral(1, 1, "eip", D(2026, 9, 1), treatment_started_on=D(2026, 9, 10)),
        referral(2, 2, "eip", D(2026, 8, 1), treatment_started_on=D(2026, 9, 1)),
        referral(3, 1, "cmht", D(2026, 10, 1), assessed_on=D(2026, 10, 11)),
        referral(4, 2, "cmht", D(2026, 8, 22), assessed_on=D(2026, 10, 1)),
        referral(5, 4, "cmht", D(2026, 9, 1), assessed_on=D(2026, 9, 21)),
        referral(6, 2, "ips", D(2026, 3, 1), first_contact_on=D(2026, 4, 1)),
        referral(7, 8, "cmht", D(2026, 1, 15)),
    ]
    episodes = [
        {"episode_id": 1, "patient_id": 1, "referral_id": 3, "team_code": "CM1", "key_worker_id": 100},
        {"episode_id": 2, "patient_id": 2, "referral_id": 4, "team_code": "CM1", "key_worker_id": 300},
    ]
    contacts = [
        {"contact_id": i, "episode_id": e, "patient_id": p, "date": d, "outcome": o, "staff_id": s}
        for i, (e, p, d, o, s) in enumerate(
            [
                (1, 1, D(2026, 5, 1), "attended", 100),
                (1, 1, D(2026, 6, 1), "attended", 100),
                (1, 1, D(2026, 7, 1), "attended", 200),
                (1, 1, D(2026, 8, 1), "dna", 100),
                (2, 2, D(2026, 9, 1), "attended", 300),
            ]
        )
    ]
    interventions = [{"patient_id": 1, "kind": "weight_management", "status": "offered", "date": D(2026, 6, 10)}]
    responses = [
        {"response_id": 1, "patient_id": 1, "instrument": "dialog", "date": D(2026, 1, 10), "score": 3.5},
        {"response_id": 2, "patient_id": 1, "instrument": "dialog", "date": D(2026, 9, 1), "score": 4.25},
    ]
    return extract(
        organisations=[*ORGANISATIONS, *TEAMS],
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


# ICB-level (numerator, denominator, value), worked out by hand from the people above.
EXPECTED = {
    "smi_register": (6, 8, 6.0),
    "smi_prevalence": (6, 8, 75.0),
    "phc_all_six": (1, 6, 100 / 6),
    "phc_bmi": (1, 6, 100 / 6),
    "phc_blood_pressure": (2, 6, 200 / 6),
    "phc_lipids": (1, 6, 100 / 6),
    "phc_glucose": (1, 6, 100 / 6),
    "phc_alcohol": (1, 6, 100 / 6),
    "phc_smoking": (1, 6, 100 / 6),
    "phc_follow_up": (1, 2, 50.0),
    "integrated_contacts_2plus": (1, 6, 100 / 6),
    "eip_two_weeks": (1, 2, 50.0),
    "ips_access": (1, 1, 1.0),
    "wait_assessment_median": (3, 3, 20.0),
    "wait_assessment_p90": (3, 3, 36.0),  # 20 + 0.8 × (40 − 20)
    "wait_assessment_4_weeks": (2, 3, 200 / 3),
    "newly_diagnosed_not_referred": (1, 2, 50.0),
    "dialog_change": (1, 1, 0.75),
    "continuity_key_worker": (3, 4, 75.0),
    "continuity_bice_boxerman": (1, 1, 1 / 3),  # N = 3, n = (2, 1): (5 − 3) / (3 × 2)
    "case_finding_medication_no_diagnosis": (1, 1, 1.0),
    "case_finding_no_contact": (1, 6, 1.0),
    "case_finding_remission_on_antipsychotics": (1, 1, 1.0),
}


def run_on(kind: str, session=None) -> pd.DataFrame:
    con = engines.from_tables(kind, hand_made(), session=session)
    try:
        return run_indicators(con, periods=[PERIOD])
    finally:
        if kind != "spark":  # the Spark session is shared
            con.disconnect()


def icb_figures(result: pd.DataFrame) -> dict:
    icb = result[(result.level == "icb") & (result.breakdown == "all")]
    return {r.indicator: (r.numerator, r.denominator, r.value) for r in icb.itertuples()}


def test_the_catalogue_is_fully_covered():
    assert set(EXPECTED) == set(INDICATORS)


@pytest.fixture(scope="module")
def duckdb_result():
    return run_on("duckdb")


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_indicator_matches_the_hand_worked_figure(duckdb_result, key):
    numerator, denominator, value = icb_figures(duckdb_result)[key]
    want_n, want_d, want_v = EXPECTED[key]
    assert (numerator, denominator) == (want_n, want_d)
    assert value == pytest.approx(want_v)


def test_two_or_more_contacts_counts_only_the_integrated_teams():
    """Two attended crisis-team contacts do not make person 2 (one CMHT contact) count: crisis care
    is specialist care, not the integrated model's contacts."""
    tables = hand_made()
    extra = extract(
        organisations=[],
        episodes=[{"episode_id": 3, "patient_id": 2, "referral_id": 8, "team_code": "CR1", "key_worker_id": 400}],
        contacts=[
            {"contact_id": 10 + i, "episode_id": 3, "patient_id": 2, "date": d, "outcome": "attended", "staff_id": 400}
            for i, d in enumerate([D(2026, 9, 5), D(2026, 9, 12)])
        ],
    )
    for name in ("episodes", "contacts"):
        tables[name] = pa.concat_tables([tables[name], extra[name]])
    for kind in ("duckdb", "sqlite"):
        con = engines.from_tables(kind, tables)
        try:
            result = run_indicators(con, periods=[PERIOD], indicators=["integrated_contacts_2plus"])
        finally:
            con.disconnect()
        assert icb_figures(result)["integrated_contacts_2plus"][:2] == (1, 6), kind


def test_sqlite_agrees_exactly(duckdb_result):
    pd.testing.assert_frame_equal(run_on("sqlite"), duckdb_result)


@pytest.mark.spark
@pytest.mark.slow
def test_spark_agrees_exactly(duckdb_result, spark):
    pd.testing.assert_frame_equal(run_on("spark", spark), duckdb_result)
    # One indicator alone: its population worked out for its own people only, as on DuckDB.
    con = engines.from_tables("spark", hand_made(), session=spark)
    alone = run_indicators(con, periods=[PERIOD], indicators=["phc_all_six"])
    suite = duckdb_result[duckdb_result.indicator == "phc_all_six"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, suite)
    assert not [t.name for t in spark.catalog.listTables() if t.name.startswith("concerto_tmp_")]


def test_breakdowns_and_levels_add_up(duckdb_result):
    r = duckdb_result[duckdb_result.indicator == "smi_register"]
    practices = r[(r.level == "practice") & (r.breakdown == "all")].set_index("organisation").numerator
    assert practices.to_dict() == {"A1": 2, "A2": 4}
    assert r[(r.level == "pcn") & (r.breakdown == "all")].numerator.tolist() == [6]
    for breakdown in ("imd_quintile", "ethnicity", "age_band", "sex"):
        rows = r[(r.level == "icb") & (r.breakdown == breakdown)]
        assert rows.numerator.sum() == 6 and rows.denominator.sum() == 8, breakdown
    sex = r[(r.level == "icb") & (r.breakdown == "sex")].set_index("group").numerator
    assert sex.to_dict() == {"F": 3, "M": 3}
    ages = r[(r.level == "icb") & (r.breakdown == "age_band")].set_index("group").numerator
    assert ages.to_dict() == {"25-34": 1, "35-44": 1, "55-64": 4}  # 2 turned 25 on 1 November 2025


def test_a_monthly_series_moves_the_windows():
    con = engines.from_tables("duckdb", hand_made())
    result = run_indicators(con, periods=[D(2026, 5, 1), D(2026, 6, 1)], indicators=["phc_bmi"], breakdowns=False)
    icb = result[result.level == "icb"].set_index("period").numerator
    # May: only 2's BMI of 31 October 2025 is inside the window; June adds 1's BMI of 1 June.
    assert icb.to_dict() == {D(2026, 5, 1): 1, D(2026, 6, 1): 2}


@pytest.mark.parametrize("kind", ["duckdb", "sqlite"])
def test_each_indicator_alone_gives_its_rows_of_the_whole_suite(duckdb_result, kind):
    """Run alone, an indicator works out the population for its own people only (one query reads
    it); the figures must be the suite's, where the whole population is computed once."""
    con = engines.from_tables(kind, hand_made())
    try:
        for key in sorted(EXPECTED):
            alone = run_indicators(con, periods=[PERIOD], indicators=[key])
            suite = duckdb_result[duckdb_result.indicator == key].reset_index(drop=True)
            pd.testing.assert_frame_equal(alone, suite, obj=f"{key} on {kind}")
    finally:
        con.disconnect()


@pytest.mark.parametrize("indicators", [None, ["phc_all_six"]], ids=["suite", "alone"])
def test_a_second_current_registration_does_not_count_a_person_twice(indicators):
    """A bad feed with two current registrations for person 1 (A1 and A2): counted once, at the
    first practice code, whether the population is shared or worked out for one indicator."""
    tables = hand_made()
    extra = extract(registrations=[{"patient_id": 1, "practice_code": "A2", "start_date": D(2015, 1, 1)}])
    tables["registrations"] = pa.concat_tables([tables["registrations"], extra["registrations"]])
    con = engines.from_tables("duckdb", tables)
    try:
        result = run_indicators(con, periods=[PERIOD], indicators=indicators, breakdowns=False)
    finally:
        con.disconnect()
    checks = result[result.indicator == "phc_all_six"].set_index(["level", "organisation"])
    assert checks.loc[("icb", "Q1"), ["numerator", "denominator"]].tolist() == [1, 6]
    assert checks.loc[("practice", "A1"), ["numerator", "denominator"]].tolist() == [1, 2]


@pytest.mark.parametrize("kind", ["duckdb", "sqlite"])
def test_the_people_behind_contacts_are_counted_and_gate_publication(kind):
    """Eight more key-worker contacts for person 1: 12 contacts, but only 2 people. Disclosure
    control must see the 2 people, so the contact counts are withheld, not published as 10."""
    tables = hand_made()
    more = extract(
        organisations=[],
        contacts=[
            {"contact_id": 100 + i, "episode_id": 1, "patient_id": 1, "date": D(2026, 9, 1 + i)}
            | {"outcome": "attended", "staff_id": 100}
            for i in range(8)
        ],
    )
    tables["contacts"] = pa.concat_tables([tables["contacts"], more["contacts"]])
    con = engines.from_tables(kind, tables)
    try:
        result = run_indicators(con, periods=[PERIOD], indicators=["continuity_key_worker", "phc_all_six"])
    finally:
        con.disconnect()
    icb = result[(result.level == "icb") & (result.breakdown == "all")].set_index("indicator")
    columns = ["numerator", "denominator", "people", "numerator_people"]
    assert icb.loc["continuity_key_worker", columns].tolist() == [11, 12, 2, 2]
    assert icb.loc["phc_all_six", columns].tolist() == [1, 6, 6, 1]  # units are people
    parents = {o["code"]: o["parent_code"] for o in ORGANISATIONS if o["parent_code"]}
    published = protect(result, units={k: i.unit for k, i in INDICATORS.items()}, parents=parents)
    assert "people" not in published and "numerator_people" not in published
    contacts = published[(published.indicator == "continuity_key_worker") & (published.level == "icb")]
    assert contacts.numerator.isna().all() and contacts.denominator.isna().all() and contacts.value.isna().all()


def test_referral_waits_count_the_people_as_well_as_the_referrals(duckdb_result):
    icb = duckdb_result[(duckdb_result.level == "icb") & (duckdb_result.breakdown == "all")].set_index("indicator")
    # Three CMHT referrals assessed (people 1, 2 and 4); two EIP referrals treated (1 on time).
    assert icb.loc["wait_assessment_median", ["denominator", "people"]].tolist() == [3, 3]
    assert icb.loc["eip_two_weeks", ["numerator", "denominator", "people", "numerator_people"]].tolist() == [1, 2, 2, 1]


@pytest.mark.parametrize("kind", ["duckdb", "sqlite"])
def test_a_monthly_series_keeps_no_months_cohorts(kind):
    """Each month's materialised cohorts are dropped once its figures are fetched, not at the end
    of the series (at ICB scale a month's population alone is 1.5 million rows)."""
    con = engines.from_tables(kind, hand_made())

    def temporary_tables() -> list:
        if kind == "duckdb":
            return con.con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
        code_sets = "name LIKE 'concept_codes%'"  # reference data, kept for the whole run
        return con.con.execute(
            f"SELECT name FROM sqlite_temp_master WHERE type = 'table' AND NOT {code_sets}"
        ).fetchall()

    left_after_each_month = []
    try:
        months = [D(2026, m, 1) for m in (7, 8, 9)]
        result = run_indicators(
            con,
            periods=months,
            indicators=["phc_all_six", "smi_register"],
            progress=lambda _month: left_after_each_month.append(temporary_tables()),
        )
        assert set(result.period) == set(months)
        assert left_after_each_month == [[], [], []]
        assert temporary_tables() == []
    finally:
        con.disconnect()
