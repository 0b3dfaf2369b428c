"""Spec tests for the SMI register and the physical health check, on small hand-made records.

Every record is written through the real actions, then the register is read back through the
selectors, on SQLite and (in the PostgreSQL pass) on PostgreSQL.
"""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concerto.core import clock
from concerto.records.actions import record_clinical_event
from concerto.register import queries, selectors
from concerto.register.actions import record_care_adjustment, record_follow_up
from concerto.register.rules import load as load_rules
from tests.fixtures import UNITS

ON = dt.date(2026, 6, 30)  # the reporting date of these specs
YEAR_BEFORE = dt.date(2025, 6, 30)  # exactly 12 months before: outside the window
SCHIZOPHRENIA = "58214004"
SCHIZOPHRENIA_IN_REMISSION = "4926007"
LITHIUM = "879511000001105"  # Camcolit 250 tablets
LITHIUM_STOPPED = "170688000"
OLANZAPINE = "321614001"
# One recorded code per element, and value-bearing codes for the flags.
ELEMENT_CODES = {
    "bmi": "60621009",
    "blood_pressure": "271649006",
    "lipids": "1005671000000105",
    "glucose": "999791000000106",
    "alcohol": "1082641000000106",
    "smoking": "266919005",
}
CURRENT_SMOKER = "160603005"
EX_SMOKER = "1092031000000108"
SYSTOLIC, DIASTOLIC = "271649006", "1091811000000102"


def on_register(universe, on=ON, member="gp_n1"):
    qs = selectors._register(universe.m(member), on, [universe.practice_n1.pk, universe.practice_n2.pk])
    return {p.pk: p.by_diagnosis for p in qs}


def row(universe, patient, on=ON, member="gp_n1"):
    rows = queries.check_rows(
        selectors._register(universe.m(member), on, [universe.practice_n1.pk]), on=on, rules=load_rules()
    )
    return next(r for r in rows if r["id"] == patient.pk)


# --- the register ---------------------------------------------------------------------------


def test_a_diagnosis_puts_a_patient_on_the_register(universe, make):
    p = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)))
    assert on_register(universe) == {p.pk: True}


def test_remission_after_the_diagnosis_takes_them_off(universe, make):
    make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), (SCHIZOPHRENIA_IN_REMISSION, dt.date(2023, 1, 1)))
    assert on_register(universe) == {}


def test_relapse_after_remission_puts_them_back(universe, make):
    p = make(
        (SCHIZOPHRENIA, dt.date(2020, 1, 1)),
        (SCHIZOPHRENIA_IN_REMISSION, dt.date(2023, 1, 1)),
        (SCHIZOPHRENIA, dt.date(2025, 2, 1)),
    )
    assert on_register(universe) == {p.pk: True}


def test_remission_on_the_same_day_as_the_diagnosis_does_not_take_them_off(universe, make):
    p = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), (SCHIZOPHRENIA_IN_REMISSION, dt.date(2020, 1, 1)))
    assert p.pk in on_register(universe)


def test_remission_codes_alone_never_put_anyone_on(universe, make):
    make((SCHIZOPHRENIA_IN_REMISSION, dt.date(2020, 1, 1)))
    assert on_register(universe) == {}


def test_the_register_is_for_a_reporting_date(universe, make):
    p = make((SCHIZOPHRENIA, dt.date(2026, 5, 1)), (SCHIZOPHRENIA_IN_REMISSION, dt.date(2026, 8, 1)))
    assert on_register(universe, on=dt.date(2026, 4, 30)) == {}  # not yet diagnosed
    assert on_register(universe, on=ON) == {p.pk: True}
    assert on_register(universe, on=dt.date(2026, 9, 1)) == {}  # in remission by then


@pytest.mark.parametrize(
    ("meds", "events", "expected"),
    [
        ([(LITHIUM, dt.date(2026, 2, 1))], [], True),  # issued within 6 months
        ([(LITHIUM, dt.date(2025, 12, 30))], [], False),  # exactly 6 months before: outside
        ([(LITHIUM, dt.date(2026, 2, 1))], [(LITHIUM_STOPPED, dt.date(2026, 3, 1))], False),  # stopped after
        ([(LITHIUM, dt.date(2026, 2, 1))], [(LITHIUM_STOPPED, dt.date(2026, 2, 1))], False),  # stopped that day
        ([(LITHIUM, dt.date(2026, 4, 1))], [(LITHIUM_STOPPED, dt.date(2026, 3, 1))], True),  # restarted
    ],
)
def test_lithium_in_the_last_six_months_not_stopped(universe, make, meds, events, expected):
    p = make(*events, meds=meds)
    register = on_register(universe)
    assert (p.pk in register) is expected
    if expected:
        assert register[p.pk] is False  # on by lithium, not by diagnosis


def test_only_the_living_registered_and_visible_are_on_it(universe, make):
    from concerto.people.models import Patient, Registration

    dead = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)))
    Patient.objects.filter(pk=dead.pk).update(date_of_death=dt.date(2026, 1, 1))
    left = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)))
    Registration.objects.filter(patient=left).update(end=dt.date(2026, 3, 1))
    elsewhere = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), practice="s1")
    assert on_register(universe) == {}
    # Before the death the patient was on it; `left` moved away, so the practice no longer sees them.
    assert on_register(universe, on=dt.date(2025, 12, 1)) == {dead.pk: True}
    s1 = selectors._register(universe.m("gp_s1"), ON, [universe.practice_s1.pk])
    assert list(s1.values_list("pk", flat=True)) == [elsewhere.pk]


# --- the check ------------------------------------------------------------------------------


@pytest.mark.parametrize("element", list(ELEMENT_CODES))
def test_each_element_counts_only_within_the_12_months_up_to_the_reporting_date(universe, make, element):
    code = ELEMENT_CODES[element]
    value = None if element == "smoking" else 20
    inside = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), (code, dt.date(2025, 7, 1), *([value] if value else [])))
    boundary = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), (code, YEAR_BEFORE, *([value] if value else [])))
    on_the_day = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), (code, ON, *([value] if value else [])))
    after = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), (code, dt.date(2026, 7, 1), *([value] if value else [])))
    assert row(universe, inside)[f"{element}_date"] == dt.date(2025, 7, 1)
    assert row(universe, boundary)[f"{element}_date"] is None
    assert row(universe, on_the_day)[f"{element}_date"] == ON
    assert row(universe, after)[f"{element}_date"] is None


def _all_six(day, smoking=EX_SMOKER, bmi=25, sbp=120, dbp=80, chol=5, hba1c=40, alcohol=4):
    return [
        (ELEMENT_CODES["bmi"], day, bmi),
        (SYSTOLIC, day, sbp),
        (DIASTOLIC, day, dbp),
        (ELEMENT_CODES["lipids"], day, chol),
        (ELEMENT_CODES["glucose"], day, hba1c),
        (ELEMENT_CODES["alcohol"], day, alcohol),
        (smoking, day),
    ]


def test_all_six_in_the_window_is_complete(universe, make):
    p = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), *_all_six(dt.date(2026, 3, 1)))
    r = row(universe, p)
    assert r["all_six"] and r["status"] == "complete" and not r["follow_up_due"]


@pytest.mark.parametrize(
    ("overrides", "flag", "abnormal"),
    [
        ({"bmi": 29.9}, "bmi_high", False),
        ({"bmi": 30}, "bmi_high", True),
        ({"sbp": 139, "dbp": 89}, "systolic_high", False),
        ({"sbp": 140}, "systolic_high", True),
        ({"dbp": 90}, "diastolic_high", True),
        ({"hba1c": 47}, "hba1c_high", False),
        ({"hba1c": 48}, "hba1c_high", True),
        ({"chol": 7.4}, "cholesterol_high", False),
        ({"chol": 7.5}, "cholesterol_high", True),
        ({"alcohol": 14}, "alcohol_high", False),
        ({"alcohol": 15}, "alcohol_high", True),
        ({"smoking": CURRENT_SMOKER}, "current_smoker", True),
        ({"smoking": EX_SMOKER}, "current_smoker", False),
    ],
)
def test_thresholds_from_the_rules_file_flag_results(universe, make, overrides, flag, abnormal):
    p = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), *_all_six(dt.date(2026, 3, 1), **overrides))
    r = row(universe, p)
    assert r[f"{flag}_abnormal"] is abnormal
    assert r["status"] == ("follow_up" if abnormal else "complete")


def test_the_latest_value_decides(universe, make):
    p = make(
        (SCHIZOPHRENIA, dt.date(2020, 1, 1)),
        *_all_six(dt.date(2025, 9, 1), bmi=35),
        (ELEMENT_CODES["bmi"], dt.date(2026, 2, 1), 27),
    )
    assert row(universe, p)["bmi_high_abnormal"] is False


def test_a_follow_up_on_or_after_the_abnormal_result_clears_it(universe, make):
    nurse = universe.m("nurse_n1")
    p = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), *_all_six(dt.date(2026, 3, 1), smoking=CURRENT_SMOKER))
    record_follow_up(patient=p, kind="smoking_cessation", status="offered", date=dt.date(2026, 2, 1), by=nurse)
    assert row(universe, p)["follow_up_due"], "a follow-up before the result does not count"
    record_follow_up(patient=p, kind="smoking_cessation", status="declined", date=dt.date(2026, 3, 1), by=nurse)
    r = row(universe, p)
    assert not r["follow_up_due"] and r["current_smoker_followed_up"] and r["status"] == "complete"


def test_recall_order_and_statuses(universe, make):
    never = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)))
    long_ago = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), (ELEMENT_CODES["bmi"], dt.date(2024, 1, 1), 25))
    recently = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), (ELEMENT_CODES["bmi"], dt.date(2026, 1, 1), 25))
    abnormal = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), *_all_six(dt.date(2026, 3, 1), hba1c=60))
    coming_due = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), *_all_six(dt.date(2025, 7, 15)))
    complete = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), *_all_six(dt.date(2026, 3, 1)))
    dissent = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)))
    record_care_adjustment(patient=dissent, reason="dissent", date=dt.date(2026, 1, 1), by=universe.m("gp_n1"))
    rows = selectors.worklist(by=universe.m("gp_n1"), on=ON, practice_ids=[universe.practice_n1.pk], statuses=None)
    assert [(r["id"], r["status"]) for r in rows] == [
        (never.pk, "never"),
        (long_ago.pk, "overdue"),
        (recently.pk, "overdue"),
        (abnormal.pk, "follow_up"),
        (coming_due.pk, "due_soon"),
        (complete.pk, "complete"),
        (dissent.pk, "excluded"),
    ]
    on_list = selectors.worklist(by=universe.m("gp_n1"), on=ON, practice_ids=[universe.practice_n1.pk])
    assert [r["id"] for r in on_list] == [never.pk, long_ago.pk, recently.pk, abnormal.pk, coming_due.pk]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.lists(st.tuples(st.sampled_from(list(ELEMENT_CODES)), st.integers(0, 800)), max_size=8),
    extra=st.tuples(st.sampled_from(list(ELEMENT_CODES)), st.integers(0, 800)),
)
def test_adding_an_event_never_lowers_completion(universe, make, before, extra):
    def event(element, days_ago):
        day = ON - dt.timedelta(days=days_ago)
        return (ELEMENT_CODES[element], day) if element == "smoking" else (ELEMENT_CODES[element], day, 20)

    patient = make((SCHIZOPHRENIA, dt.date(2015, 1, 1)), *(event(*e) for e in before))
    rules = load_rules()
    first = row(universe, patient)
    done_before = sum(first[f"{e.key}_date"] is not None for e in rules.elements)
    code, day, *value = event(*extra)
    record_clinical_event(
        patient=patient,
        code=code,
        date=day,
        value=Decimal(value[0]) if value else None,
        unit=UNITS.get(code, "") if value else "",
        by=universe.m("nurse_n1"),
    )
    second = row(universe, patient)
    done_after = sum(second[f"{e.key}_date"] is not None for e in rules.elements)
    assert done_after >= done_before
    assert second["all_six"] >= first["all_six"]


# --- QOF --------------------------------------------------------------------------------------


def summary(universe, on=ON):
    s = selectors.indicator_summary(by=universe.m("gp_n1"), on=on, practice_ids=[universe.practice_n1.pk])
    return s, {q["id"]: (q["num"], q["den"]) for q in s["qof"]}


def test_indicators_are_counted_by_the_database(universe, make):
    make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), *_all_six(dt.date(2026, 3, 1)))
    make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), *_all_six(dt.date(2026, 3, 1), hba1c=60))
    make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), (SYSTOLIC, dt.date(2026, 1, 1), 120))
    make(meds=[(LITHIUM, dt.date(2026, 5, 1))])
    s, q = summary(universe)
    assert (s["register"], s["register_diagnosis"], s["register_lithium_only"]) == (4, 3, 1)
    assert (s["all_six"]["num"], s["all_six"]["den"], s["all_six"]["rate"]) == (2, 3, 66.7)
    assert (s["follow_up"]["num"], s["follow_up"]["den"]) == (0, 1)
    assert q["MH003"] == (3, 3) and q["MH021"] == (2, 3)


def test_personalised_care_adjustments_leave_the_denominator_unless_the_indicator_was_met(universe, make):
    gp = universe.m("gp_n1")
    met = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), *_all_six(dt.date(2026, 3, 1)))
    record_care_adjustment(patient=met, reason="unsuitable", date=dt.date(2026, 4, 1), by=gp)
    dissent = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)))
    record_care_adjustment(patient=dissent, reason="dissent", date=dt.date(2026, 4, 1), by=gp)
    declined_bp = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), ("413123006", dt.date(2026, 4, 1)))
    new_here = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), registered=dt.date(2026, 5, 1))
    newly_diagnosed = make((SCHIZOPHRENIA, dt.date(2026, 5, 1)))
    invited_twice = make(
        (SCHIZOPHRENIA, dt.date(2020, 1, 1)), ("414668005", dt.date(2026, 1, 1)), ("414670001", dt.date(2026, 1, 8))
    )
    invited_close = make(
        (SCHIZOPHRENIA, dt.date(2020, 1, 1)), ("414668005", dt.date(2026, 1, 1)), ("414670001", dt.date(2026, 1, 7))
    )
    plain = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)))
    _, q = summary(universe)
    # MH003 (blood pressure): met (1) + the BP decliner is excepted; dissent, new and invited excepted.
    assert q["MH003"] == (1, 3)  # met, invited_close, plain
    assert q["MH006"] == (1, 4)  # BMI: the BP decline does not except from BMI
    del declined_bp, new_here, newly_diagnosed, invited_twice, invited_close, plain, met, dissent


def test_mh011_lipids_need_12_months_when_higher_risk_else_24(universe, make):
    low_risk = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), (ELEMENT_CODES["lipids"], dt.date(2025, 1, 1), 5))
    high_risk = make(
        (SCHIZOPHRENIA, dt.date(2020, 1, 1)),
        (ELEMENT_CODES["lipids"], dt.date(2025, 1, 1), 5),
        meds=[(OLANZAPINE, dt.date(2026, 5, 1))],
    )
    _, q = summary(universe)
    assert q["MH011"] == (1, 2)
    assert row(universe, low_risk)["lipids_24_date"] == row(universe, high_risk)["lipids_24_date"]


# --- case-finding ---------------------------------------------------------------------------


def test_case_finding(universe, make):
    unexplained = make(meds=[(OLANZAPINE, dt.date(2026, 3, 1))])
    explained = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), meds=[(OLANZAPINE, dt.date(2026, 3, 1))])
    quiet = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)))
    remission_on_drugs = make(
        (SCHIZOPHRENIA, dt.date(2020, 1, 1)),
        (SCHIZOPHRENIA_IN_REMISSION, dt.date(2025, 6, 1)),
        meds=[(OLANZAPINE, dt.date(2026, 4, 1))],
    )
    remission_stopped = make(
        (SCHIZOPHRENIA, dt.date(2020, 1, 1)),
        (SCHIZOPHRENIA_IN_REMISSION, dt.date(2025, 6, 1)),
        meds=[(OLANZAPINE, dt.date(2025, 5, 1))],
    )
    found = selectors.case_finding(by=universe.m("gp_n1"), on=ON, practice_ids=[universe.practice_n1.pk])
    assert [p.pk for p in found["unexplained"]] == [unexplained.pk]
    assert [p.pk for p in found["quiet"]] == [quiet.pk]
    assert [p.pk for p in found["in_remission"]] == [remission_on_drugs.pk]
    del explained, remission_stopped


def test_clock_months_before_clamps_to_month_end():
    assert clock.months_before(dt.date(2026, 5, 31), 3) == dt.date(2026, 2, 28)
    assert clock.months_before(dt.date(2024, 2, 29), 12) == dt.date(2023, 2, 28)
    assert clock.months_before(dt.date(2026, 1, 15), 1) == dt.date(2025, 12, 15)


def test_a_care_adjustment_never_hides_an_abnormal_result(universe, make):
    p = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), *_all_six(dt.date(2026, 3, 1), hba1c=70))
    record_care_adjustment(patient=p, reason="dissent", date=dt.date(2026, 4, 1), by=universe.m("gp_n1"))
    assert row(universe, p)["status"] == "follow_up"


def test_a_historic_reporting_date_ignores_later_follow_ups(universe, make):
    p = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), *_all_six(dt.date(2026, 3, 1), hba1c=70))
    record_follow_up(
        patient=p, kind="diabetes_review", status="offered", date=dt.date(2026, 8, 1), by=universe.m("nurse_n1")
    )
    assert row(universe, p, on=ON)["follow_up_due"] is True
    assert row(universe, p, on=dt.date(2026, 8, 31))["follow_up_due"] is False


def test_a_coded_alcohol_referral_is_the_follow_up(universe, make):
    p = make(
        (SCHIZOPHRENIA, dt.date(2020, 1, 1)),
        *_all_six(dt.date(2026, 3, 1), alcohol=30),
        ("390857005", dt.date(2026, 3, 2)),  # Referral to community alcohol team (ALCREF_COD)
    )
    r = row(universe, p)
    assert r["alcohol_high_abnormal"] and r["alcohol_high_followed_up"] and r["status"] == "complete"


def test_fasting_glucose_of_7_or_more_calls_for_a_diabetes_review(universe, make):
    low = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), ("1003131000000101", dt.date(2026, 3, 1), 6.9))
    high = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), ("1003131000000101", dt.date(2026, 3, 1), 7.0))
    assert row(universe, low)["fasting_glucose_high_abnormal"] is False
    assert row(universe, high)["fasting_glucose_high_abnormal"] is True
    assert row(universe, high)["glucose_date"] == dt.date(2026, 3, 1)


def test_due_soon_starts_30_days_before_the_oldest_element_expires(universe, make):
    inside = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), *_all_six(dt.date(2025, 7, 30)))  # expires in 30 days
    outside = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), *_all_six(dt.date(2025, 7, 31)))
    assert row(universe, inside)["status"] == "due_soon"
    assert row(universe, outside)["status"] == "complete"


@pytest.mark.parametrize(
    ("ethnicity", "bmi", "twelve_months"),
    [
        ("W_BRI", 24, False),
        ("W_BRI", 25, True),
        ("A_PAK", 23, True),
        ("A_PAK", 22.9, False),
        ("Z", 24, False),
    ],
)
def test_mh011_weight_thresholds_depend_on_ethnicity(universe, make, ethnicity, bmi, twelve_months):
    from concerto.people.models import Patient

    p = make(
        (SCHIZOPHRENIA, dt.date(2020, 1, 1)),
        (ELEMENT_CODES["bmi"], dt.date(2026, 3, 1), bmi),
        (ELEMENT_CODES["lipids"], dt.date(2025, 1, 1), 5),
    )  # lipids 18 months ago
    Patient.objects.filter(pk=p.pk).update(ethnicity=ethnicity)
    _, q = summary(universe)
    assert q["MH011"] == ((0, 1) if twelve_months else (1, 1))


def test_invitations_are_not_activity_for_case_finding(universe, make):
    quiet = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), ("414668005", dt.date(2026, 5, 1)))  # a letter we sent
    found = selectors.case_finding(by=universe.m("gp_n1"), on=ON, practice_ids=[universe.practice_n1.pk])
    assert [p.pk for p in found["quiet"]] == [quiet.pk]
