"""NHS numbers: ten digits, the last a modulus-11 check digit.

Synthetic data only ever uses the 999 range, which the NHS has never issued.
"""

import re

from django.core.exceptions import ValidationError

_WEIGHTS = range(10, 1, -1)  # weights 10..2 for the first nine digits


class InvalidNHSNumber(ValueError):
    """Raised with a message a person can act on."""


def check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit for nine digits, or None when no valid digit exists (remainder 10)."""
    total = sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True))
    digit = 11 - total % 11
    if digit == 11:
        return 0
    if digit == 10:
        return None
    return digit


def normalise(value: str) -> str:
    """Strip the spaces and dashes people type (`943 476 5919`, `943-476-5919`)."""
    return re.sub(r"[\s-]", "", value or "")


def parse(value: str) -> str:
    """Return the ten-digit NHS number or raise InvalidNHSNumber saying what is wrong."""
    digits = normalise(value)
    if not digits:
        raise InvalidNHSNumber("Enter an NHS number.")
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidNHSNumber("An NHS number must contain only digits (spaces are allowed).")
    if len(digits) != 10:
        raise InvalidNHSNumber(f"An NHS number has 10 digits; this has {len(digits)}.")
    expected = check_digit(digits[:9])
    if expected is None or expected != int(digits[9]):
        raise InvalidNHSNumber(
            "This is not a valid NHS number: the check digit does not match. Check it for a mistyped digit."
        )
    return digits


def is_valid(value: str) -> bool:
    try:
        parse(value)
    except InvalidNHSNumber:
        return False
    return True


def format_nhs_number(digits: str) -> str:
    """Display as 3-3-4, the way NHS services show it."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def validate_nhs_number(value: str) -> None:
    """Django field validator."""
    try:
        parse(value)
    except InvalidNHSNumber as exc:
        raise ValidationError(str(exc), code="invalid_nhs_number") from exc


def synthetic_from_serial(serial: int) -> str | None:
    """The 999-range NHS number whose digits 4–9 are `serial` (0 ≤ serial < 1,000,000),
    or None when those digits have no valid check digit."""
    first_nine = f"999{serial:06d}"
    digit = check_digit(first_nine)
    return None if digit is None else f"{first_nine}{digit}"
