import datetime as dt
import re
import uuid
from decimal import Decimal

from django import forms

from concerto.core import clock
from concerto.directory.actions import Opening
from concerto.directory.models import SERVICE_STATUSES, WEEKDAY_NAMES
from concerto.register.forms import DateInput

DISTANCES = [
    ("", "Any distance"),
    ("1", "Within 1 km"),
    ("2", "Within 2 km"),
    ("5", "Within 5 km"),
    ("10", "Within 10 km"),
]
DAYS = [("", "Any day"), *[(str(i), name) for i, name in enumerate(WEEKDAY_NAMES)]]


class SearchForm(forms.Form):
    q = forms.CharField(label="What are you looking for?", required=False, max_length=200)
    needs = forms.MultipleChoiceField(label="Needs", required=False, widget=forms.CheckboxSelectMultiple)
    postcode = forms.CharField(label="Near postcode", required=False, max_length=10)
    within_km = forms.ChoiceField(label="Distance", choices=DISTANCES, required=False)
    day = forms.ChoiceField(label="Open on", choices=DAYS, required=False)
    time = forms.TimeField(label="At (HH:MM)", required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    age = forms.IntegerField(label="Age", required=False, min_value=0, max_value=130)
    free_only = forms.BooleanField(label="Free only", required=False)
    semantic = forms.BooleanField(label="Also match by meaning", required=False)

    def __init__(self, *args, needs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["needs"].choices = [(t.code, t.name) for t in needs]  # type: ignore[attr-defined]


class PrescribeForm(forms.Form):
    reason = forms.CharField(
        label="What matters to the person, and what you hope this service offers",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent_confirmed = forms.BooleanField(
        label="The person agrees to share their details with this service",
        required=False,
        help_text="Voluntary and community services see nothing without it.",
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex)


class NoteForm(forms.Form):
    text = forms.CharField(
        label="What matters to me", widget=forms.Textarea(attrs={"rows": 3}), help_text="In the person's own words."
    )


class AttendanceForm(forms.Form):
    on = forms.DateField(label="Session date", widget=DateInput, initial=clock.today)
    attended = forms.TypedChoiceField(
        label="Did they come?",
        choices=[("yes", "Attended"), ("no", "Did not attend")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )


class WellbeingForm(forms.Form):
    on = forms.DateField(label="Date", widget=DateInput, initial=clock.today)
    life_satisfaction = forms.IntegerField(
        label="Overall, how satisfied are you with your life nowadays?", min_value=0, max_value=10
    )
    worthwhile = forms.IntegerField(
        label="Overall, to what extent do you feel the things you do in your life are worthwhile?",
        min_value=0,
        max_value=10,
    )
    happiness = forms.IntegerField(label="Overall, how happy did you feel yesterday?", min_value=0, max_value=10)
    anxiety = forms.IntegerField(label="Overall, how anxious did you feel yesterday?", min_value=0, max_value=10)


class DeclineForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    to_service = forms.TypedChoiceField(label="Hand over to", coerce=int)
    handover_note = forms.CharField(label="Hand-over note", widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_service"].choices = [("", "Choose a service")] + [  # type: ignore[attr-defined]
            (s.pk, f"{s.name} ({s.organisation.name})") for s in services
        ]


OPENING = re.compile(r"^\s*(\w+)\s+(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


class ServiceForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    status = forms.ChoiceField(choices=[(s, s.capitalize()) for s in SERVICE_STATUSES])
    terms = forms.MultipleChoiceField(label="Needs and programmes", required=False, widget=forms.CheckboxSelectMultiple)
    location_name = forms.CharField(label="Venue", required=False, max_length=200)
    address = forms.CharField(label="Address", required=False, max_length=200)
    postcode = forms.CharField(label="Postcode", required=False, max_length=10)
    openings = forms.CharField(
        label="Opening times",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, e.g. Tuesday 14:00-16:00",
    )
    minimum_age = forms.IntegerField(label="Minimum age", required=False, min_value=0, max_value=130)
    maximum_age = forms.IntegerField(label="Maximum age", required=False, min_value=0, max_value=130)
    cost = forms.DecimalField(label="Cost per session (£, 0 if free)", required=False, min_value=Decimal(0))
    email = forms.EmailField(required=False)
    url = forms.URLField(label="Website", required=False, assume_scheme="https")

    def __init__(self, *args, terms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["terms"].choices = [(t.pk, f"{t.name} ({t.get_taxonomy_display()})") for t in terms]  # type: ignore[attr-defined]

    def clean_openings(self) -> list[Opening]:
        openings = []
        days = {name.lower(): i for i, name in enumerate(WEEKDAY_NAMES)} | {
            name.lower()[:3]: i for i, name in enumerate(WEEKDAY_NAMES)
        }
        for line in self.cleaned_data["openings"].splitlines():
            if not line.strip():
                continue
            match = OPENING.match(line)
            if not match or match.group(1).lower() not in days:
                raise forms.ValidationError(f"Could not read {line.strip()!r}: write e.g. Tuesday 14:00-16:00")
            try:
                opens, closes = (dt.time.fromisoformat(t.zfill(5)) for t in match.group(2, 3))
            except ValueError as exc:
                raise forms.ValidationError(f"Could not read the times in {line.strip()!r}") from exc
            openings.append(Opening(days[match.group(1).lower()], opens, closes))
        return openings


class ActivityForm(forms.Form):
    month = forms.DateField(label="Month (any day in it)", widget=DateInput, initial=clock.today)
    sessions = forms.IntegerField(min_value=0)
    participants = forms.IntegerField(label="People reached", min_value=0)


class ImportForm(forms.Form):
    file = forms.FileField(label="Open Referral UK JSON file")
