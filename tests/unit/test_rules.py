"""The physical health check rules file: thresholds and code lists are data, checked on load."""

from decimal import Decimal

import pytest

from concerto.core.errors import InvalidInput
from concerto.register import rules


def test_the_shipped_rules_describe_six_elements_and_their_flags():
    r = rules.parse(rules.DEFAULT_RULES)
    assert [e.key for e in r.elements] == ["bmi", "blood_pressure", "lipids", "glucose", "alcohol", "smoking"]
    assert r.window_months == 12 and r.target_percent == 60
    flags = {f.key: f for f in r.flags}
    assert flags["bmi_high"].is_abnormal(Decimal(30)) and not flags["bmi_high"].is_abnormal(Decimal("29.9"))
    assert flags["alcohol_high"].is_abnormal(15) and not flags["alcohol_high"].is_abnormal(14)
    assert "27113001" in r.element("bmi").recorded  # body weight counts for the BMI element
    assert "160603005" in flags["current_smoker"].status_codes


def _write(tmp_path, text):
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return path


def _shipped_with(old: str, new: str, tmp_path):
    text = rules.DEFAULT_RULES.read_text()
    assert old in text
    return _write(tmp_path, text.replace(old, new, 1))


def test_a_site_can_change_a_threshold(tmp_path):
    path = _shipped_with("at_least = 7.5", "at_least = 5.0", tmp_path)
    assert next(f for f in rules.parse(path).flags if f.key == "cholesterol_high").at_least == Decimal("5.0")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('clusters = ["IFCCHBAM_COD"]', 'clusters = ["NOPE_COD"]', "no cluster NOPE_COD"),
        ('intervention = "diabetes_review"', 'intervention = "magic"', "unknown element or intervention"),
        ("at_least = 48\n", "\n", "needs `at_least` or `above`"),
        ('hba1c = "999791000000106"', 'hba1c = "123"', "record_codes not in any code list"),
    ],
)
def test_a_wrong_rules_file_is_refused_with_the_entry_at_fault(tmp_path, old, new, message):
    with pytest.raises(InvalidInput, match=message):
        rules.parse(_shipped_with(old, new, tmp_path))


def test_an_unreadable_rules_file_says_so(tmp_path):
    with pytest.raises(InvalidInput, match="cannot read"):
        rules.parse(_write(tmp_path, "this is [not toml"))
