"""Checking answers against a definition, scoring them and spotting risk answers. Pure functions:
no database, so each rule is unit-tested against published examples."""

from __future__ import annotations

from typing import Any

from concerto.core.errors import InvalidInput
from concerto.outcomes.definitions import Item, Questionnaire, RiskRule, ScoreRule


class AnswerErrors(InvalidInput):
    """The answers do not fit the questionnaire. `errors` maps each question's linkId (or "" for
    the whole form) to a message a person can act on; nothing is saved."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(" ".join(errors.values()))


def _label(item: Item) -> str:
    return item.text


def check_answers(questionnaire: Questionnaire, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers, cleaned (strings stripped, unanswered optional questions left out), or
    AnswerErrors naming every problem. Values must already have the item's type: an integer for
    a choice or integer item, True/False for a boolean, text for a string."""
    if not isinstance(answers, dict):
        raise AnswerErrors({"": "Answers must be given as a mapping of question to answer."})
    errors: dict[str, str] = {}
    known = {i.link_id for i in questionnaire.items}
    unknown = sorted(str(k) for k in answers if k not in known)
    if unknown:
        errors[""] = f"{questionnaire.title} has no question {', '.join(unknown)}."
    cleaned: dict[str, Any] = {}
    context = dict(answers)  # questions already checked count as cleaned (blank text is no answer)
    for item in questionnaire.items:
        value = answers.get(item.link_id)
        if isinstance(value, str) and item.type == "string":
            value = value.strip()
        answered = value is not None and value != ""
        context[item.link_id] = value if answered else None
        if not item.enabled(context):
            if answered:
                errors[item.link_id] = f"“{_label(item)}” does not apply: leave it blank."
            continue
        if not answered:
            if item.required:
                errors[item.link_id] = f"Answer “{_label(item)}”."
            continue
        problem = _type_problem(item, value)
        if problem:
            errors[item.link_id] = f"“{_label(item)}”: {problem}"
            context[item.link_id] = None
            continue
        cleaned[item.link_id] = value
    if errors:
        raise AnswerErrors(errors)
    return cleaned


def _type_problem(item: Item, value: Any) -> str:
    if item.type == "boolean":
        return "" if isinstance(value, bool) else "answer yes or no."
    if item.type == "string":
        if not isinstance(value, str):
            return "give the answer as text."
        return "" if len(value) <= item.max_length else f"keep it under {item.max_length} characters."
    if not isinstance(value, int) or isinstance(value, bool):
        return "give a whole number."
    if item.type == "choice":
        allowed = [o.value for o in item.options]
        return "" if value in allowed else f"choose one of the answers offered ({', '.join(map(str, allowed))})."
    low, high = item.min_value, item.max_value
    if (low is not None and value < low) or (high is not None and value > high):
        return f"give a number from {low} to {high}."
    return ""


def compute(rule: ScoreRule, answers: dict[str, Any]) -> float | int | None:
    """The score, or None when an item it needs was not answered (e.g. an unused GBO goal)."""
    if any(answers.get(link_id) is None for link_id in rule.items):
        return None
    values: list[int] = [answers[link_id] for link_id in rule.items]
    if rule.method == "value":
        result: float | int = values[0]
    elif rule.method == "sum":
        result = sum(values)
    else:
        result = round(sum(values) / len(values), rule.decimals or 2)
    if rule.conversion:  # e.g. SWEMWBS raw totals to metric scores, from the site's licensed table
        result = rule.conversion[int(result)]
    return result


def score(
    questionnaire: Questionnaire, answers: dict[str, Any], baselines: dict[str, float] | None = None
) -> dict[str, dict[str, Any]]:
    """Every score of the questionnaire: {key: {"value", "band", "change"}}. `baselines` gives,
    for change-from-baseline scores (GBO), the first value of the same goal; without one this
    response is the baseline and the change is 0."""
    baselines = baselines or {}
    scores = {}
    for rule in questionnaire.scoring:
        value = compute(rule, answers)
        entry: dict[str, Any] = {"value": value, "band": rule.band(value)}
        if rule.change_from_baseline and value is not None:
            entry["change"] = value - baselines.get(rule.key, value)
        scores[rule.key] = entry
    return scores


def risks(questionnaire: Questionnaire, answers: dict[str, Any]) -> list[RiskRule]:
    """The risk rules these answers meet (e.g. PHQ-9 question 9 above 'Not at all')."""
    return [rule for rule in questionnaire.risk if rule.condition.holds(answers)]
