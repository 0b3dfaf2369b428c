import uuid

from django import forms

from concerto.core import clock
from concerto.referrals.models import ContactOutcome
from concerto.register.forms import DateInput


class ReferForm(forms.Form):
    destination = forms.TypedChoiceField(label="Refer to", coerce=int)
    reason = forms.CharField(
        label="Reason for referral",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What matters to the person, what you are asking for, and any risks.",
    )
    consent_confirmed = forms.BooleanField(
        label="The patient agrees to share their details with this service",
        required=False,
        help_text="Needed for council and voluntary-sector services, which see nothing without it.",
    )
    # A fresh key per form: submitting the same form twice creates one referral.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex)

    def __init__(self, *args, destinations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination"].choices = [("", "Choose a service")] + [  # type: ignore[attr-defined]
            (o.pk, f"{o.name} ({o.get_team_type_display() or o.get_kind_display()})") for o in destinations
        ]


class DecisionForm(forms.Form):
    """One triage decision. `version` is the version the person saw (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        choices=[("triage", "Triaged"), ("accept", "Accept"), ("redirect", "Not for us: redirect")]
    )
    rationale = forms.CharField(label="Rationale", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    named_person = forms.TypedChoiceField(label="Named person", coerce=int, required=False)
    destination = forms.TypedChoiceField(label="Redirect to", coerce=int, required=False)
    consent_confirmed = forms.BooleanField(required=False)


class ReassignForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    named_person = forms.IntegerField()


class StepForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    on = forms.DateField(label="Date", widget=DateInput, initial=clock.today, required=False)
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ContactForm(forms.Form):
    on = forms.DateField(label="Date", widget=DateInput, initial=clock.today)
    outcome = forms.ChoiceField(label="Outcome", choices=ContactOutcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(label="Note (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2}))
