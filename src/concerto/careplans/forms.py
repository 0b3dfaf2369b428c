"""Plan editors. Each plan is one main form plus a formset per list section (goals, actions,
contacts); `PlanEditor` validates them together and turns them into the version's JSON content,
and back again to start an edit from the current version."""

from __future__ import annotations

from django import forms

from concerto.careplans.models import AgreedHow, Kind
from concerto.careplans.sections import ACTION_STATUSES, InvalidPhoneNumber, normalise_uk_phone
from concerto.core import clock
from concerto.register.forms import DateInput

BLANK_ROWS = 2  # empty rows offered under each list, so nothing needs JavaScript


def _uk_phone(value: str) -> str:
    try:
        return normalise_uk_phone(value)
    except InvalidPhoneNumber as exc:
        raise forms.ValidationError(str(exc)) from None


def _text(label: str, help_text: str = "", rows: int = 4) -> forms.CharField:
    textarea = forms.Textarea(attrs={"rows": rows})
    return forms.CharField(label=label, help_text=help_text, required=False, widget=textarea)


class CarePlanForm(forms.Form):
    what_matters = _text("What matters to me", "In the person's own words.")
    needs = _text("My needs", "What the person needs help with, e.g. the DIALOG areas where they want more help.")
    medication_notes = _text("Medication", "What the person takes, what it is for, and what they think of it.", 3)
    review_date = forms.DateField(label="Review date", widget=DateInput, required=False)
    change_note = forms.CharField(label="What changed (optional)", required=False, max_length=500)

    def clean_review_date(self):
        review = self.cleaned_data["review_date"]
        if review and review < clock.today():
            raise forms.ValidationError("The review date must be today or later.")
        return review


class CrisisPlanForm(forms.Form):
    early_warning_signs = _text("Early warning signs", "What the person, and those close to them, notice first.")
    what_helps = _text("What helps")
    what_to_avoid = _text("What to avoid", "What makes things worse, or has not helped before.")
    advance_statements = _text(
        "Advance statements", "The person's wishes about care and treatment if they become unwell.", 3
    )
    change_note = forms.CharField(label="What changed (optional)", required=False, max_length=500)


class GoalForm(forms.Form):
    goal = forms.CharField(label="Goal", max_length=300)
    baseline = forms.IntegerField(label="Baseline (0–10)", min_value=0, max_value=10)
    current = forms.IntegerField(label="Now (0–10)", min_value=0, max_value=10, required=False)


class ActionForm(forms.Form):
    what = forms.CharField(label="What", max_length=300)
    organisation = forms.CharField(label="Organisation", max_length=200, required=False)
    person = forms.CharField(label="Person", max_length=200, required=False)
    by_when = forms.DateField(label="By when", widget=DateInput, required=False)
    status = forms.ChoiceField(label="Status", choices=ACTION_STATUSES, initial="not_started")

    def clean(self):
        data = super().clean()
        if data and data.get("what") and not (data.get("organisation") or data.get("person")):
            raise forms.ValidationError("Say who will do this: an organisation, a person, or both.")
        return data


class ContactForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    relationship = forms.CharField(label="Relationship", max_length=200, required=False)
    phone = forms.CharField(label="Phone", max_length=30, required=False)

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        return _uk_phone(phone) if phone.strip() else ""


class CrisisContactForm(forms.Form):
    name = forms.CharField(label="Name or service", max_length=200)
    role = forms.CharField(label="Who they are", max_length=200, required=False)
    phone = forms.CharField(label="Phone", max_length=30)
    hours = forms.CharField(label="When to call", max_length=200, help_text="e.g. 9am to 5pm weekdays; 24 hours")

    def clean_phone(self):
        return _uk_phone(self.cleaned_data["phone"])


def _formset(form):
    # A "Remove" box per row: clearing a row is not enough to drop it, so nothing goes by accident.
    return forms.formset_factory(form, extra=BLANK_ROWS, max_num=50, validate_max=True, can_delete=True)


GoalFormSet = _formset(GoalForm)
ActionFormSet = _formset(ActionForm)
ContactFormSet = _formset(ContactForm)
CrisisContactFormSet = _formset(CrisisContactForm)

LISTS: dict[str, list] = {
    Kind.CARE: [
        ("goals", GoalFormSet),
        ("actions", ActionFormSet),
        ("physical_health", ActionFormSet),
        ("contacts", ContactFormSet),
    ],
    Kind.CRISIS: [("contacts", CrisisContactFormSet)],
}
MAIN: dict[str, type[forms.Form]] = {Kind.CARE: CarePlanForm, Kind.CRISIS: CrisisPlanForm}


def _json_row(data: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


class PlanEditor:
    """The main form and the list formsets of one plan kind, bound or started from content."""

    def __init__(self, kind: str, data=None, content: dict | None = None):
        self.kind = kind
        content = content or {}
        main_initial = {k: v for k, v in content.items() if k in MAIN[kind].base_fields}
        self.main = MAIN[kind](data, initial=main_initial)
        self.lists = {key: formset(data, prefix=key, initial=content.get(key, [])) for key, formset in LISTS[kind]}

    def is_valid(self) -> bool:
        valid = self.main.is_valid()
        for formset in self.lists.values():
            valid = formset.is_valid() and valid
        return valid

    @property
    def error_count(self) -> int:
        return len(self.main.errors) + sum(f.total_error_count() for f in self.lists.values())

    def content(self) -> dict:
        """The validated content, without the change note and blank rows."""
        data = {k: v for k, v in self.main.cleaned_data.items() if k != "change_note"}
        out = _json_row(data)
        for key, formset in self.lists.items():
            out[key] = [
                _json_row({k: v for k, v in f.cleaned_data.items() if k != "DELETE"})
                for f in formset.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
        return out

    @property
    def change_note(self) -> str:
        return self.main.cleaned_data.get("change_note", "")


class AgreementForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    agreed_with = forms.CharField(
        label="Agreed with", max_length=200, help_text="The patient, or who agreed on their behalf and why."
    )
    agreed_on = forms.DateField(label="Date agreed", widget=DateInput, initial=clock.today)
    how = forms.ChoiceField(label="How", choices=AgreedHow.choices, widget=forms.RadioSelect)

    def clean_agreed_on(self):
        agreed_on = self.cleaned_data["agreed_on"]
        if agreed_on > clock.today():
            raise forms.ValidationError("The date agreed cannot be in the future.")
        return agreed_on


class ResolveRequestForm(forms.Form):
    resolution = forms.CharField(label="What was done", max_length=500)
