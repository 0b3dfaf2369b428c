"""Scoring against the published rules: PHQ-9 (Kroenke, Spitzer & Williams 2001) and GAD-7
(Spitzer et al. 2006) totals and severity bands at every boundary, DIALOG means (Priebe et al.:
items 1-8 subjective quality of life, 9-11 treatment satisfaction), GBO change from baseline;
strict checking of answers; risk answers."""

import pytest

from concerto.outcomes import definitions
from concerto.outcomes.scoring import AnswerErrors, check_answers, risks, score


def q(key):
    return definitions.get(key)


def phq9(*values, difficulty=None):
    answers = {str(n): v for n, v in enumerate(values, start=1)}
    if difficulty is not None:
        answers["difficulty"] = difficulty
    return answers


def gad7(*values):
    return {str(n): v for n, v in enumerate(values, start=1)}


def dialog(ratings, helps=()):
    answers = {str(n): r for n, r in enumerate(ratings, start=1)}
    answers |= {f"{n}-help": n in helps for n in range(1, 12)}
    return answers


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ((0,) * 9, 0, "None to minimal"),
        ((1, 1, 1, 1, 0, 0, 0, 0, 0), 4, "None to minimal"),
        ((1, 1, 1, 1, 1, 0, 0, 0, 0), 5, "Mild"),
        ((1,) * 9, 9, "Mild"),
        ((2, 2, 2, 2, 1, 1, 0, 0, 0), 10, "Moderate"),
        ((3, 3, 2, 2, 2, 2, 0, 0, 0), 14, "Moderate"),
        ((3, 3, 3, 2, 2, 2, 0, 0, 0), 15, "Moderately severe"),
        ((3, 3, 3, 3, 3, 2, 2, 0, 0), 19, "Moderately severe"),
        ((3, 3, 3, 3, 3, 3, 2, 0, 0), 20, "Severe"),
        ((3,) * 9, 27, "Severe"),
    ],
)
def test_phq9_total_and_severity_band_at_each_boundary(values, total, band):
    scores = score(q("phq9"), check_answers(q("phq9"), phq9(*values)))
    assert scores["total"] == {"value": total, "band": band}


def test_phq9_difficulty_question_is_optional_and_not_scored():
    with_difficulty = check_answers(q("phq9"), phq9(*(2,) * 9, difficulty=3))
    assert score(q("phq9"), with_difficulty)["total"]["value"] == 18
    assert "difficulty" not in check_answers(q("phq9"), phq9(*(2,) * 9))


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ((0,) * 7, 0, "Minimal"),
        ((1, 1, 1, 1, 0, 0, 0), 4, "Minimal"),
        ((1, 1, 1, 1, 1, 0, 0), 5, "Mild"),
        ((2, 2, 2, 1, 1, 1, 0), 9, "Mild"),
        ((2, 2, 2, 2, 1, 1, 0), 10, "Moderate"),
        ((2, 2, 2, 2, 2, 2, 2), 14, "Moderate"),
        ((3, 2, 2, 2, 2, 2, 2), 15, "Severe"),
        ((3,) * 7, 21, "Severe"),
    ],
)
def test_gad7_total_and_severity_band_at_each_boundary(values, total, band):
    scores = score(q("gad7"), check_answers(q("gad7"), gad7(*values)))
    assert scores["total"] == {"value": total, "band": band}


def test_dialog_means_are_quality_of_life_and_treatment_satisfaction():
    answers = check_answers(q("dialog"), dialog([4, 5, 3, 6, 2, 7, 4, 5, 6, 5, 7], helps={3, 5}))
    scores = score(q("dialog"), answers)
    assert scores["quality_of_life"]["value"] == 4.5  # (4+5+3+6+2+7+4+5) / 8
    assert scores["treatment_satisfaction"]["value"] == 6.0  # (6+5+7) / 3
    assert answers["3-help"] is True and answers["4-help"] is False


def test_dialog_means_are_rounded_to_two_places():
    scores = score(q("dialog"), check_answers(q("dialog"), dialog([1, 2, 2, 2, 2, 2, 2, 2, 1, 1, 2])))
    assert scores["quality_of_life"]["value"] == 1.88  # 15 / 8 = 1.875
    assert scores["treatment_satisfaction"]["value"] == 1.33  # 4 / 3


def test_dialog_has_eight_life_domains_and_three_treatment_aspects_each_with_a_help_question():
    items = q("dialog").items
    ratings = [i for i in items if i.type == "choice"]
    assert [i.subscale for i in ratings] == ["life"] * 8 + ["treatment"] * 3
    assert all([o.value for o in i.options] == list(range(1, 8)) for i in ratings)
    assert [i.link_id for i in items if i.type == "boolean"] == [f"{n}-help" for n in range(1, 12)]
    assert ratings[0].group == "Mental health" and ratings[10].group == "Meetings with mental health professionals"


def test_gbo_change_is_from_the_baseline_of_the_same_goal():
    answers = check_answers(q("gbo"), {"goal1_text": "Get back to work", "goal1_rating": 7})
    scores = score(q("gbo"), answers, baselines={"goal_1": 2})
    assert scores["goal_1"] == {"value": 7, "band": "", "change": 5}
    assert scores["goal_2"] == {"value": None, "band": ""}  # no second goal: no score, no change
    assert score(q("gbo"), answers)["goal_1"]["change"] == 0  # without a baseline, this is it


def test_gbo_rating_needs_its_goal_and_a_goal_needs_its_rating():
    with pytest.raises(AnswerErrors) as missing:
        check_answers(q("gbo"), {"goal1_text": "Sleep better"})
    assert set(missing.value.errors) == {"goal1_rating"}
    with pytest.raises(AnswerErrors) as orphan:
        check_answers(q("gbo"), {"goal1_text": "Sleep better", "goal1_rating": 3, "goal2_rating": 4})
    assert "does not apply" in orphan.value.errors["goal2_rating"]
    with pytest.raises(AnswerErrors) as blank:
        check_answers(q("gbo"), {"goal1_text": "   ", "goal1_rating": 3})
    assert set(blank.value.errors) == {"goal1_text", "goal1_rating"}
    with pytest.raises(AnswerErrors) as out_of_range:
        check_answers(q("gbo"), {"goal1_text": "Sleep better", "goal1_rating": 11})
    assert "from 0 to 10" in out_of_range.value.errors["goal1_rating"]


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        (phq9(*(1,) * 8), "9"),  # a missing required answer
        (phq9(*(1,) * 8, 4), "9"),  # not an offered answer
        (phq9(*(1,) * 8, "1"), "9"),  # text where a value is expected: the caller converts
        (phq9(*(1,) * 8, True), "9"),  # True is not 1
        (phq9(*(1,) * 9) | {"10": 1}, ""),  # no such question
    ],
)
def test_answers_are_checked_strictly_and_every_problem_is_named(answers, problem):
    with pytest.raises(AnswerErrors) as refused:
        check_answers(q("phq9"), answers)
    assert problem in refused.value.errors
    assert str(refused.value)  # a message a person can read


def test_all_problems_are_reported_at_once():
    with pytest.raises(AnswerErrors) as refused:
        check_answers(q("gad7"), {"1": 0})
    assert set(refused.value.errors) == {"2", "3", "4", "5", "6", "7"}
    assert "Answer “Not being able to stop or control worrying”" in str(refused.value)


@pytest.mark.parametrize(("item9", "flagged"), [(0, False), (1, True), (2, True), (3, True)])
def test_phq9_question_9_above_not_at_all_is_a_risk(item9, flagged):
    found = risks(q("phq9"), check_answers(q("phq9"), phq9(*(0,) * 8, item9)))
    assert bool(found) is flagged
    if flagged:
        assert "question 9" in found[0].reason


def test_other_questionnaires_carry_no_risk_rule():
    assert risks(q("gad7"), check_answers(q("gad7"), gad7(*(3,) * 7))) == []
