import re

import pytest

from concerto.careplans.models import Kind
from concerto.careplans.sections import (
    SECTIONS,
    InvalidPhoneNumber,
    format_uk_phone,
    normalise_uk_phone,
    section_lines,
)


@pytest.mark.parametrize(
    "typed,digits,shown",
    [
        ("01632 960000", "01632960000", "01632 960000"),
        ("020 7946 0000", "02079460000", "020 7946 0000"),
        ("+44 (0)20 7946 0000", "02079460000", "020 7946 0000"),
        ("+447700900123", "07700900123", "07700 900123"),
        ("0044 7700 900123", "07700900123", "07700 900123"),
        ("0800 123 4567", "08001234567", "0800 123 4567"),
        ("111", "111", "111"),
        ("999", "999", "999"),
        ("116 123", "116123", "116 123"),
    ],
)
def test_uk_phone_numbers_are_accepted_and_spaced_for_reading(typed, digits, shown):
    assert normalise_uk_phone(typed) == digits
    assert format_uk_phone(digits) == shown


@pytest.mark.parametrize(
    "typed,reason",
    [
        ("", "Enter a phone number"),
        ("12345", "starting with 0 or +44"),
        ("020 7946 000", "11 digits"),  # one digit short
        ("0800 1111", "11 digits"),
        ("07700 9001234", "11 digits"),  # one digit too many
        ("06123 456789", "not a UK phone number"),
        ("+1 212 555 0100", "only contain digits, spaces and a leading +44"),
        ("0161 496 0000 ext 2", "only contain digits"),
    ],
)
def test_numbers_that_are_not_uk_numbers_are_refused_with_a_reason(typed, reason):
    with pytest.raises(InvalidPhoneNumber, match=re.escape(reason)):
        normalise_uk_phone(typed)


def test_each_section_reads_as_lines_for_comparison():
    care = {s.key: s for s in SECTIONS[Kind.CARE]}
    goal = {"goal": "Swim weekly", "baseline": 2, "current": None}
    assert section_lines(care["goals"], {"goals": [goal]}) == ["Swim weekly (baseline 2/10)"]
    action = {"what": "Call", "organisation": "CMHT", "person": "Kim", "by_when": "2026-03-01", "status": "done"}
    assert section_lines(care["actions"], {"actions": [action]}) == ["Call – Kim, CMHT by 1 March 2026 [Done]"]
    assert section_lines(care["what_matters"], {"what_matters": "a\nb\n"}) == ["a", "b"]
    assert section_lines(care["review_date"], {}) == []
    crisis = {s.key: s for s in SECTIONS[Kind.CRISIS]}
    contact = {"name": "Kim", "role": "Key worker", "phone": "01632960100", "hours": "9 to 5"}
    assert section_lines(crisis["contacts"], {"contacts": [contact]}) == ["Kim (Key worker) – 01632 960100 – 9 to 5"]
