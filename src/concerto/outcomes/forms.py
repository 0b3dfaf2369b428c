"""A form built from a questionnaire definition. It only converts what the browser sends into typed
answers; whether the answers are complete and valid is decided by `scoring.check_answers` (one
set of rules for staff, the portal and the API), whose messages are put back on the fields."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from concerto.core import clock
from concerto.outcomes.definitions import Item, Questionnaire
from concerto.outcomes.scoring import AnswerErrors
from concerto.register.forms import DateInput

IDEMPOTENCY_FIELD = "form_key"  # reserved: definitions cannot use it as a linkId


def _field(item: Item) -> forms.Field:
    if item.type == "choice":
        return forms.TypedChoiceField(
            label=item.text,
            choices=[(o.value, o.display) for o in item.options],
            coerce=int,
            empty_value=None,
            required=False,
            widget=forms.RadioSelect,
        )
    if item.type == "boolean":
        return forms.TypedChoiceField(
            label=item.text,
            choices=[("yes", "Yes"), ("no", "No")],
            coerce=lambda v: v == "yes",
            empty_value=None,
            required=False,
            widget=forms.RadioSelect,
        )
    if item.type == "integer":
        return forms.IntegerField(label=item.text, required=False)
    return forms.CharField(
        label=item.text, required=False, max_length=item.max_length, widget=forms.Textarea(attrs={"rows": 2})
    )


class QuestionnaireForm(forms.Form):
    """`sections` gives (heading, [(group, bound field)]) for templates; `answers` the typed answers."""

    def __init__(self, *args, questionnaire: Questionnaire, **kwargs):
        super().__init__(*args, **kwargs)
        self.questionnaire = questionnaire
        for item in questionnaire.items:
            self.fields[item.link_id] = _field(item)
        # A fresh key per form shown: submitting it twice records one response (see record_response).
        self.fields[IDEMPOTENCY_FIELD] = forms.CharField(
            widget=forms.HiddenInput, required=False, initial=lambda: uuid.uuid4().hex, max_length=100
        )

    @property
    def sections(self) -> list[tuple[str, list[tuple[str, forms.BoundField]]]]:
        return [
            (
                section.text,
                [(item.group if item.group != section.text else "", self[item.link_id]) for item in section.items],
            )
            for section in self.questionnaire.sections
        ]

    def answers(self) -> dict[str, Any]:
        link_ids = {i.link_id for i in self.questionnaire.items}
        return {k: v for k, v in self.cleaned_data.items() if k in link_ids and v not in (None, "")}

    def idempotency_key(self) -> str | None:
        return self.cleaned_data.get(IDEMPOTENCY_FIELD) or None

    def show(self, errors: AnswerErrors) -> None:
        for link_id, message in errors.errors.items():
            self.add_error(link_id if link_id in self.fields else None, message)


class StaffQuestionnaireForm(QuestionnaireForm):
    """Staff also say when it was completed (a paper form) and whether the patient filled it in."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["completed_on"] = forms.DateField(
            label="Date completed", widget=DateInput, initial=clock.today, help_text="For a paper form, the date on it."
        )
        self.fields["completed_by_patient"] = forms.BooleanField(
            label="The patient filled this in themselves", required=False
        )


class AcknowledgeForm(forms.Form):
    action_taken = forms.CharField(
        label="What was done",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: phoned the same day, safety plan reviewed, crisis team informed.",
    )
