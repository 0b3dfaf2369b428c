import datetime as dt

from django import forms

from concerto.core import nhs_number


def date_of_birth_from(data: dict) -> dt.date | None:
    """The date from a form's dob_day, dob_month and dob_year fields (None if all are empty)."""
    parts = [data.get("dob_day"), data.get("dob_month"), data.get("dob_year")]
    if all(p is None for p in parts):
        return None
    if not all(p is not None for p in parts):
        raise forms.ValidationError("Date of birth must include a day, month and year.")
    try:
        return dt.date(data["dob_year"], data["dob_month"], data["dob_day"])
    except ValueError:
        raise forms.ValidationError("Date of birth must be a real date.") from None


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="NHS number or name",
        required=False,
        max_length=100,
        help_text="For example, 999 123 4560 or 'Smith John'",
    )
    dob_day = forms.IntegerField(label="Day", required=False, min_value=1, max_value=31)
    dob_month = forms.IntegerField(label="Month", required=False, min_value=1, max_value=12)
    dob_year = forms.IntegerField(label="Year", required=False, min_value=1900, max_value=2100)

    def clean_q(self) -> str:
        text = self.cleaned_data["q"].strip()
        digits = nhs_number.normalise(text)
        # Ten digits typed: it is meant as an NHS number, so say plainly if it cannot be one.
        if digits.isascii() and digits.isdigit() and len(digits) == 10:
            try:
                nhs_number.parse(digits)
            except nhs_number.InvalidNHSNumber as exc:
                raise forms.ValidationError(str(exc)) from exc
        elif digits.isascii() and digits.isdigit() and len(digits) > 3:
            raise forms.ValidationError("An NHS number has 10 digits.")
        return text

    def clean(self):
        data = super().clean() or {}
        data["date_of_birth"] = date_of_birth_from(data)
        if not data.get("q") and data["date_of_birth"] is None and not self.errors:
            raise forms.ValidationError("Enter an NHS number, a name or a date of birth.")
        return data
