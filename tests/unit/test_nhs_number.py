import pytest
from hypothesis import given
from hypothesis import strategies as st

from concerto.core import nhs_number as nhs

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


def with_check_digit(first_nine: str) -> str | None:
    digit = nhs.check_digit(first_nine)
    return None if digit is None else first_nine + str(digit)


@given(nine_digits)
def test_every_valid_number_round_trips_through_formatting(first_nine):
    number = with_check_digit(first_nine)
    if number is None:  # remainder 10: no valid number has these nine digits
        assert not any(nhs.is_valid(first_nine + d) for d in "0123456789")
        return
    assert nhs.parse(number) == number
    assert nhs.parse(nhs.format_nhs_number(number)) == number
    assert nhs.parse(number.replace("", " ").strip()) == number


@given(nine_digits, st.integers(0, 9), st.integers(1, 9))
def test_every_single_digit_error_is_caught(first_nine, position, shift):
    number = with_check_digit(first_nine)
    if number is None:
        return
    wrong = str((int(number[position]) + shift) % 10)
    mistyped = number[:position] + wrong + number[position + 1 :]
    assert not nhs.is_valid(mistyped)


def test_known_valid_and_invalid_numbers():
    assert nhs.is_valid("943 476 5919")  # the NHS's own published example
    assert not nhs.is_valid("943 476 5918")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter an NHS number"),
        ("94347659", "has 10 digits; this has 8"),
        ("94347659190", "has 10 digits; this has 11"),
        ("943476591A", "only digits"),
        ("9434765918", "check digit does not match"),
        ("٩٤٣٤٧٦٥٩١٩", "only digits"),  # Arabic-Indic digits: str.isdigit() would accept them
    ],
)
def test_invalid_numbers_are_rejected_with_a_clear_message(text, message):
    with pytest.raises(nhs.InvalidNHSNumber, match=message):
        nhs.parse(text)


def test_synthetic_numbers_are_in_the_999_range_and_valid():
    made = [nhs.synthetic_from_serial(s) for s in range(0, 1000)]
    valid = [m for m in made if m is not None]
    assert len(valid) > 850  # about 10 in 11 serials have a valid check digit
    assert all(m.startswith("999") and nhs.is_valid(m) for m in valid)
