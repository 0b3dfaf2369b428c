from django import forms

from concerto.core import nhs_number
from concerto.web.forms import date_of_birth_from


class SignInForm(forms.Form):
    nhs_number = forms.CharField(label="NHS number", max_length=20, help_text="For example, 999 123 4560")
    dob_day = forms.IntegerField(label="Day", required=False, min_value=1, max_value=31)
    dob_month = forms.IntegerField(label="Month", required=False, min_value=1, max_value=12)
    dob_year = forms.IntegerField(label="Year", required=False, min_value=1900, max_value=2100)

    def clean_nhs_number(self) -> str:
        try:
            return nhs_number.parse(self.cleaned_data["nhs_number"])
        except nhs_number.InvalidNHSNumber as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self):
        data = super().clean() or {}
        data["date_of_birth"] = date_of_birth_from(data)
        if data["date_of_birth"] is None:
            raise forms.ValidationError("Enter your date of birth.")
        return data


class SelfReferralForm(forms.Form):
    destination = forms.ChoiceField(label="Which service would you like to be referred to?", widget=forms.RadioSelect)
    reason = forms.CharField(
        label="What would you like help with?",
        help_text="In your own words. The team will read this when they decide how best to help.",
        max_length=4000,
        widget=forms.Textarea,
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, destinations, **kwargs):
        super().__init__(*args, **kwargs)
        self.destinations = {str(d.pk): d for d in destinations}
        destination = self.fields["destination"]
        assert isinstance(destination, forms.ChoiceField)
        destination.choices = [(str(d.pk), d.name) for d in destinations]

    def clean_destination(self):
        return self.destinations[self.cleaned_data["destination"]]

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Tell us what you would like help with.")
        return reason


class PlanChangeForm(forms.Form):
    text = forms.CharField(
        label="What would you like to change?",
        help_text="Your care team will talk it through with you before the plan is changed.",
        max_length=4000,
        widget=forms.Textarea,
    )
