import datetime as dt
from decimal import Decimal
from typing import cast

from django import forms

from concerto.core import clock
from concerto.core.errors import InvalidInput
from concerto.register.actions import CARE_ADJUSTMENTS, MEASURES, validate_measurements
from concerto.register.models import Channel, FollowUpStatus, Response
from concerto.register.rules import load as load_rules


class DateInput(forms.DateInput):
    input_type = "date"


def _not_future(value: dt.date) -> dt.date:
    if value > clock.today():
        raise forms.ValidationError("The date cannot be in the future.")
    return value


class HealthCheckForm(forms.Form):
    date = forms.DateField(label="Date of the check", widget=DateInput, initial=clock.today)
    smoking = forms.ChoiceField(
        label="Smoking status",
        required=False,
        widget=forms.RadioSelect,
        choices=[("current", "Current smoker"), ("ex", "Ex-smoker"), ("never", "Never smoked"), ("", "Not asked")],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["declined"] = forms.MultipleChoiceField(
            label="Declined by the patient",
            required=False,
            widget=forms.CheckboxSelectMultiple,
            choices=[(e.key, e.label) for e in load_rules().elements if e.declined],
            help_text="Recorded as declined for this year's check (a QOF personalised care adjustment).",
        )
        for key, m in MEASURES.items():
            self.fields[key] = forms.DecimalField(
                label=m.label,
                required=False,
                max_digits=7,
                decimal_places=1,
                help_text=f"{m.unit}, {m.low} to {m.high}",
            )
            self.fields[key].unit = m.unit  # type: ignore[attr-defined]

    def clean_date(self):
        return _not_future(self.cleaned_data["date"])

    def clean(self):
        data = super().clean() or {}
        values: dict[str, Decimal | None] = {k: data.get(k) for k in MEASURES}
        try:
            data["measurements"] = validate_measurements(
                values, data.get("smoking") or None, allow_empty=bool(data.get("declined"))
            )
        except InvalidInput as exc:
            if not self.errors:
                raise forms.ValidationError(str(exc)) from exc
        return data


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(label="Follow-up", choices=())
    status = forms.ChoiceField(label="Outcome", choices=FollowUpStatus.choices, widget=forms.RadioSelect)
    date = forms.DateField(label="Date", widget=DateInput, initial=clock.today)
    note = forms.CharField(label="Note (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, interventions=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [(i.key, i.label) for i in interventions]

    def clean_date(self):
        return _not_future(self.cleaned_data["date"])


class CareAdjustmentForm(forms.Form):
    reason = forms.ChoiceField(label="Reason", choices=list(CARE_ADJUSTMENTS.items()), widget=forms.RadioSelect)
    date = forms.DateField(label="Date", widget=DateInput, initial=clock.today)

    def clean_date(self):
        return _not_future(self.cleaned_data["date"])


class InviteForm(forms.Form):
    channel = forms.ChoiceField(label="How", choices=Channel.choices, widget=forms.RadioSelect)


class BulkInviteForm(forms.Form):
    channel = forms.ChoiceField(
        label="Invite by", choices=[(Channel.SMS, "Text message"), (Channel.LETTER, "Letter")], widget=forms.RadioSelect
    )
    patients = forms.TypedMultipleChoiceField(
        coerce=int, choices=(), error_messages={"required": "Choose at least one person to invite."}
    )

    def __init__(self, *args, patient_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["patients"]).choices = [(pid, pid) for pid in patient_ids]


class ResponseForm(forms.Form):
    response = forms.ChoiceField(choices=Response.choices)
    date = forms.DateField(widget=DateInput, initial=clock.today)

    def clean_date(self):
        return _not_future(self.cleaned_data["date"])


class RegisterFilterForm(forms.Form):
    """Filters from the query string: which practices, which date, which statuses, what order."""

    practice = forms.TypedChoiceField(label="Practice", coerce=int, required=False, empty_value=None)
    on = forms.DateField(label="Reporting date", required=False, widget=DateInput)
    status = forms.ChoiceField(label="Status", required=False)
    order = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[("priority", "Recall priority"), ("name", "Name"), ("last_check", "Longest since last check")],
    )

    def __init__(self, *args, practices=(), statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["practice"]).choices = [("", "All practices")] + [
            (p.pk, p.name) for p in practices
        ]
        if statuses:
            cast(forms.ChoiceField, self.fields["status"]).choices = [("", "All"), *statuses]
        else:  # a summary page: no list to filter or sort
            del self.fields["status"], self.fields["order"]

    def clean_on(self):
        on = self.cleaned_data["on"]
        return _not_future(on) if on else None
