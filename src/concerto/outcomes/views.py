from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from concerto.access.decorators import patient_view, require_permission
from concerto.access.middleware import MemberRequest
from concerto.access.permissions import Permission
from concerto.access.policy import has_permission
from concerto.core.errors import ConcertoError, InvalidInput
from concerto.outcomes import actions, definitions, selectors
from concerto.outcomes.crisis import crisis_text
from concerto.outcomes.forms import AcknowledgeForm, StaffQuestionnaireForm
from concerto.outcomes.scoring import AnswerErrors
from concerto.people.models import Patient


def _cell(response, rule) -> dict[str, Any]:
    """One score in the table; for a GBO goal also the goal's words, since goals differ per person."""
    cell = dict(response.scores.get(rule.key) or {})
    if rule.same_answer:
        cell["text"] = response.answers.get(rule.same_answer, "")
    return cell


def _outcomes_url(patient: Patient) -> str:
    return reverse("outcomes:patient", args=[patient.public_id])


@patient_view(Permission.PATIENT_VIEW_CLINICAL, what="questionnaires")
def patient_outcomes(request: MemberRequest, patient: Patient) -> HttpResponse:
    """Every questionnaire the patient has completed: a chart and a table of its scores over time."""
    by = request.membership
    known = definitions.all_questionnaires()
    responses = selectors.responses(patient, by=by)
    panels = []
    for key in definitions.in_display_order({r.questionnaire_key for r in responses}):
        questionnaire = known.get(key)
        mine = [r for r in responses if r.questionnaire_key == key]
        rules = list(questionnaire.scoring) if questionnaire else []
        panel: dict[str, Any] = {
            "key": key,
            "title": mine[0].questionnaire_title,
            "questionnaire": questionnaire,
            "rules": rules,
            "rows": [(r, [_cell(r, rule) for rule in rules]) for r in mine],
            "shows_change": any(rule.change_from_baseline for rule in rules),
            "chart_id": f"chart-{key}",
        }
        series = selectors.score_series(patient, key, by=by)
        if questionnaire and rules and series:
            from concerto.outcomes import charts  # Altair (and pandas) load on first use, not at start-up

            panel["chart"] = charts.score_chart(questionnaire, series)
        panels.append(panel)
    return render(
        request,
        "outcomes/patient.html",
        {
            "patient": patient,
            "panels": panels,
            "alerts": selectors.alerts_for(patient, by=by),
            "questionnaires": [known[k] for k in definitions.in_display_order(known)],
            "can_record": has_permission(by, Permission.PATIENT_RECORD_CLINICAL),
            "acknowledge_form": AcknowledgeForm(),
            "site_problems": definitions.site_problems(),
        },
    )


@patient_view(Permission.PATIENT_RECORD_CLINICAL, what="questionnaire_form")
@require_http_methods(["GET", "POST"])
def record(request: MemberRequest, patient: Patient, key: str) -> HttpResponse:
    try:
        questionnaire = definitions.get(key)
    except InvalidInput:
        raise Http404("No such questionnaire") from None
    form = StaffQuestionnaireForm(request.POST or None, questionnaire=questionnaire)
    if request.method == "POST" and form.is_valid():
        try:
            response = actions.record_response(
                patient=patient,
                questionnaire=questionnaire,
                answers=form.answers(),
                by=request.membership,
                completed_by_patient=form.cleaned_data["completed_by_patient"],
                completed_on=form.cleaned_data["completed_on"],
                idempotency_key=form.idempotency_key(),
            )
        except AnswerErrors as exc:
            form.show(exc)
        except ConcertoError as exc:
            form.add_error(None, str(exc))
        else:
            if response.risk_flagged:
                messages.warning(
                    request,
                    f"{questionnaire.title} saved. A risk answer was given: the key worker and care team "
                    "have been alerted. Make sure the patient knows where to get help now.",
                )
            else:
                messages.success(request, f"{questionnaire.title} saved.")
            return redirect(reverse("outcomes:response", args=[patient.public_id, response.pk]))
    return render(request, "outcomes/record.html", {"patient": patient, "questionnaire": questionnaire, "form": form})


@patient_view(Permission.PATIENT_VIEW_CLINICAL, what="questionnaire_response")
def response_detail(request: MemberRequest, patient: Patient, response_id: int) -> HttpResponse:
    response = selectors.get_response(patient, by=request.membership, response_id=response_id)
    questionnaire = definitions.all_questionnaires().get(response.questionnaire_key)
    answers = []
    if questionnaire:
        for item in questionnaire.items:
            answers.append((item.group, item.text, item.display(response.answers.get(item.link_id))))
    else:  # a site questionnaire since removed: the answers as stored
        answers = [("", link_id, str(value)) for link_id, value in response.answers.items()]
    rules = {r.key: r for r in questionnaire.scoring} if questionnaire else {}
    scores = [(rules[k].label if k in rules else k, s) for k, s in response.scores.items()]
    alert = getattr(response, "risk_alert", None) if response.risk_flagged else None
    return render(
        request,
        "outcomes/response.html",
        {
            "patient": patient,
            "response": response,
            "questionnaire": questionnaire,
            "answers": answers,
            "scores": scores,
            "alert": alert,
            "crisis_text": crisis_text() if response.risk_flagged else (),
        },
    )


@patient_view(Permission.PATIENT_RECORD_CLINICAL, what="risk_alert")
@require_http_methods(["POST"])
def acknowledge(request: MemberRequest, patient: Patient, alert_id: int) -> HttpResponse:
    alert = selectors.get_alert(patient, by=request.membership, alert_id=alert_id)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say what was done about this alert.")
    else:
        try:
            note = form.cleaned_data["action_taken"]
            actions.acknowledge_alert(alert=alert, action_taken=note, by=request.membership)
        except ConcertoError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Alert acknowledged.")
    back = request.POST.get("next")
    return redirect(reverse("outcomes:alerts") if back == "alerts" else _outcomes_url(patient) + "#alerts")


@require_permission(Permission.PATIENT_VIEW_CLINICAL)
def alerts(request: MemberRequest) -> HttpResponse:
    return render(
        request,
        "outcomes/alerts.html",
        {
            "alerts": selectors.open_alerts(by=request.membership),
            "can_acknowledge": has_permission(request.membership, Permission.PATIENT_RECORD_CLINICAL),
            "acknowledge_form": AcknowledgeForm(),
        },
    )
