import datetime as dt

from django import template

from concerto.careplans.sections import ACTION_STATUS_LABELS, format_uk_phone

register = template.Library()


@register.filter
def isodate(value: str | None) -> str:
    """An ISO date from a plan's JSON, as people write it: 3 March 2026."""
    if not value:
        return ""
    return dt.date.fromisoformat(value).strftime("%-d %B %Y")


@register.filter
def uk_phone(value: str) -> str:
    return format_uk_phone(value) if value else ""


@register.filter
def action_status(value: str) -> str:
    return ACTION_STATUS_LABELS.get(value, value)


@register.filter
def goal_change(goal: dict) -> str:
    """Goal-Based Outcomes change: current minus baseline, signed; blank until re-rated."""
    if goal.get("current") is None:
        return "–"
    change = goal["current"] - goal["baseline"]
    return f"{change:+d}" if change else "0"
