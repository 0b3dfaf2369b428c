"""What a plan holds, section by section: labels, UK phone numbers, the national crisis lines,
and each section as lines of text so two versions compare readably and print the same way."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from concerto.careplans.models import Kind

ACTION_STATUSES = [("not_started", "Not started"), ("in_progress", "In progress"), ("done", "Done")]
ACTION_STATUS_LABELS = dict(ACTION_STATUSES)

# Always shown on every crisis plan, on screen and in print, whatever the named contacts say: a
# plan whose own contacts are wrong or out of date still points somewhere that answers (hazard H21).
NATIONAL_FALLBACKS = [
    {
        "name": "NHS 111, then option 2",
        "role": "Urgent mental health help for you or someone you care for",
        "phone": "111",
        "hours": "24 hours a day, every day",
    },
    {
        "name": "999",
        "role": "Emergency: if your life, or someone else's, is at risk now",
        "phone": "999",
        "hours": "24 hours a day, every day",
    },
    {
        "name": "Samaritans",
        "role": "To talk to someone, whatever you are going through",
        "phone": "116 123",
        "hours": "24 hours a day, every day, free",
    },
]


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    kind: str  # "text", "date", or a list of rows: "goals", "actions", "contacts", "crisis_contacts", "dialog"


CARE_SECTIONS = [
    Section("what_matters", "What matters to me", "text"),
    Section("needs", "My needs", "text"),
    Section("dialog", "Needs from DIALOG", "dialog"),
    Section("goals", "My goals", "goals"),
    Section("actions", "Actions", "actions"),
    Section("physical_health", "Physical health actions", "actions"),
    Section("medication_notes", "Medication", "text"),
    Section("contacts", "Carers and contacts", "contacts"),
    Section("review_date", "Review date", "date"),
]
CRISIS_SECTIONS = [
    Section("early_warning_signs", "Early warning signs", "text"),
    Section("what_helps", "What helps", "text"),
    Section("what_to_avoid", "What to avoid", "text"),
    Section("contacts", "Who to contact, day and night", "crisis_contacts"),
    Section("advance_statements", "Advance statements", "text"),
]
SECTIONS: dict[str, list[Section]] = {Kind.CARE: CARE_SECTIONS, Kind.CRISIS: CRISIS_SECTIONS}


class InvalidPhoneNumber(ValueError):
    pass


_SHORT_NUMBERS = {"111", "999", "112", "116123"}


def normalise_uk_phone(text: str) -> str:
    """A UK phone number as digits with a leading 0 (or a national short number such as 111),
    or InvalidPhoneNumber saying what is wrong. Accepts spaces, dashes, brackets and +44."""
    digits = re.sub(r"[\s\-().]", "", text or "")
    if not digits:
        raise InvalidPhoneNumber("Enter a phone number.")
    if digits.startswith("+44"):
        digits = "0" + digits[3:].removeprefix("0")
    elif digits.startswith("0044"):
        digits = "0" + digits[4:].removeprefix("0")
    if not digits.isdigit():
        raise InvalidPhoneNumber("A phone number can only contain digits, spaces and a leading +44.")
    if digits in _SHORT_NUMBERS:
        return digits
    if not digits.startswith("0"):
        raise InvalidPhoneNumber("Enter a UK phone number starting with 0 or +44, like 01632 960000.")
    if digits[1] not in "1235789":
        raise InvalidPhoneNumber("That is not a UK phone number: UK numbers start 01, 02, 03, 05, 07, 08 or 09.")
    if len(digits) != 11 and not (len(digits) == 10 and digits[1] in "18"):
        raise InvalidPhoneNumber(f"A UK phone number has 11 digits (this has {len(digits)}).")
    return digits


def format_uk_phone(digits: str) -> str:
    """Spaced for reading aloud: 020 7946 0000, 0800 123 4567, 07700 900123, 01632 960000."""
    if not digits:
        return ""
    if len(digits) <= 6:
        return digits if digits != "116123" else "116 123"
    if digits.startswith("02"):
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if digits[:2] in ("03", "05", "08", "09"):
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    return f"{digits[:5]} {digits[5:]}"


def _date(value: str | None) -> str:
    if not value:
        return ""
    return dt.date.fromisoformat(value).strftime("%-d %B %Y")


def _crisis_contact_line(contact: dict) -> str:
    who = contact["name"] + (f" ({contact['role']})" if contact.get("role") else "")
    return f"{who} – {format_uk_phone(contact['phone'])} – {contact['hours']}"


def section_lines(section: Section, content: dict, *, show_scores: bool = True) -> list[str]:
    """One section as lines of text: what the difference view compares and print shows."""
    value = content.get(section.key)
    if not value:
        return []
    match section.kind:
        case "text":
            return [line.rstrip() for line in str(value).strip().splitlines()]
        case "date":
            return [_date(value)]
        case "goals":
            return [
                f"{g['goal']} (baseline {g['baseline']}/10"
                + (f", now {g['current']}/10)" if g.get("current") is not None else ")")
                for g in value
            ]
        case "actions":
            lines = []
            for a in value:
                who = ", ".join(x for x in (a.get("person"), a.get("organisation")) if x)
                when = f" by {_date(a['by_when'])}" if a.get("by_when") else ""
                status = ACTION_STATUS_LABELS.get(a.get("status", ""), "")
                lines.append(f"{a['what']}{' – ' + who if who else ''}{when} [{status}]")
            return lines
        case "contacts":
            return [
                " – ".join(x for x in (c["name"], c.get("relationship"), format_uk_phone(c.get("phone", ""))) if x)
                for c in value
            ]
        case "crisis_contacts":
            return [_crisis_contact_line(c) for c in value]
        case "dialog":
            if not show_scores:  # ratings are clinical record: others see only where help is wanted
                return [f"{d['label']} – wants more help" for d in value.get("domains", []) if d.get("wants_help")]
            return [
                f"{d['label']}: {d['score']}/7{' – wants more help' if d.get('wants_help') else ''}"
                for d in value.get("domains", [])
            ]
    return [str(value)]
