"""Outcome writes: recording a completed questionnaire (scored, audited, risk answers alerting the
care team) and acknowledging a risk alert."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from concerto import notifications
from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import can_access_patient, has_permission, require_access
from concerto.core import clock
from concerto.core.errors import InvalidInput, NotPermitted
from concerto.organisations.models import Organisation
from concerto.outcomes import definitions, scoring
from concerto.outcomes.definitions import Questionnaire, RiskRule
from concerto.outcomes.models import QuestionnaireResponse, RiskAlert
from concerto.people.models import Patient
from concerto.referrals.models import Episode  # key workers are named on episodes of care

logger = logging.getLogger(__name__)

RISK_ALERT_TEMPLATE = "risk_alert_staff"


def record_response(
    *,
    patient: Patient,
    questionnaire: Questionnaire | str,
    answers: dict[str, Any],
    by: Membership | None,
    completed_by_patient: bool = False,
    completed_on: dt.date | None = None,
    idempotency_key: str | None = None,
) -> QuestionnaireResponse:
    """Check, score and keep a completed questionnaire; a risk answer raises an alert for the key
    worker and care team and messages them (after commit).

    Staff pass their membership as `by` (the access policy applies; `completed_by_patient=True`
    for a form the patient filled in on paper). The portal passes `by=None` and
    `completed_by_patient=True`: it has bound the session to this patient, and the audit records
    the patient as the actor. Answers are checked strictly (AnswerErrors names every problem;
    nothing is saved). `completed_on` back-dates a paper form (never the future). The same
    `idempotency_key` twice (a double click, a retried request) records one response and returns
    it both times; the key used for another patient or questionnaire is refused."""
    if by is None:
        if not completed_by_patient:
            raise NotPermitted("Only the patient themselves or a member of staff can record a questionnaire.")
    else:
        # Checked (and a refusal audited) before the transaction, so the refusal's record stays.
        require_access(by, patient, Permission.PATIENT_RECORD_CLINICAL, what="questionnaire_response")
    definition = definitions.resolve(questionnaire)
    if idempotency_key:
        existing = _already_recorded(idempotency_key, patient, definition)
        if existing is not None:
            return existing
    cleaned = scoring.check_answers(definition, answers)
    on = completed_on or clock.today()
    if on > clock.today():
        raise InvalidInput("The date it was completed cannot be in the future.")
    if on < patient.date_of_birth:
        raise InvalidInput("The date it was completed cannot be before the patient was born.")
    try:
        return _record(patient, definition, cleaned, on, by, completed_by_patient, idempotency_key)
    except IntegrityError:
        # Two submissions of one form raced: the other one won; return it.
        existing = _already_recorded(idempotency_key, patient, definition) if idempotency_key else None
        if existing is None:
            raise
        return existing


def _already_recorded(key: str, patient: Patient, definition: Questionnaire) -> QuestionnaireResponse | None:
    existing = QuestionnaireResponse.objects.filter(idempotency_key=key).first()
    if existing is not None and (existing.patient_id, existing.questionnaire_key) != (patient.pk, definition.key):
        raise InvalidInput("This form was already used for another questionnaire; open a new one.")
    return existing


@transaction.atomic
def _record(
    patient: Patient,
    definition: Questionnaire,
    answers: dict[str, Any],
    on: dt.date,
    by: Membership | None,
    completed_by_patient: bool,
    idempotency_key: str | None,
) -> QuestionnaireResponse:
    scores = scoring.score(definition, answers, _baselines(patient, definition, answers, on))
    risks = scoring.risks(definition, answers)
    response = QuestionnaireResponse.objects.create(
        patient=patient,
        questionnaire_key=definition.key,
        questionnaire_url=definition.url,
        questionnaire_version=definition.version,
        questionnaire_title=definition.title,
        answers=answers,
        scores=scores,
        completed_on=on,
        recorded_at=clock.now(),
        recorded_by=by,
        completed_by_patient=completed_by_patient,
        risk_flagged=bool(risks),
        idempotency_key=idempotency_key or None,
    )
    detail = {"response": response.pk, "questionnaire": definition.key, "risk": bool(risks)}
    if by is None:
        audit.record_by_patient(
            patient=patient, action=AuditAction.CREATE, what="questionnaire_response", detail=detail
        )
    else:
        audit.record(by=by, action=AuditAction.CREATE, what="questionnaire_response", patient=patient, detail=detail)
    if risks:
        _raise_alert(response, risks)
    return response


def _baselines(patient: Patient, definition: Questionnaire, answers: dict[str, Any], on: dt.date) -> dict[str, float]:
    """For change-from-baseline scores (GBO goals): the value in the first earlier response for
    the same goal (the same words, ignoring case and spacing)."""
    rules = [r for r in definition.scoring if r.change_from_baseline]
    if not rules:
        return {}
    earlier = QuestionnaireResponse.objects.filter(
        patient=patient, questionnaire_key=definition.key, completed_on__lte=on
    ).order_by("completed_on", "recorded_at", "pk")
    baselines: dict[str, float] = {}
    for rule in rules:
        wanted = _same(answers.get(rule.same_answer)) if rule.same_answer else None
        for previous in earlier:
            value = previous.scores.get(rule.key, {}).get("value")
            if value is not None and (not rule.same_answer or _same(previous.answers.get(rule.same_answer)) == wanted):
                baselines[rule.key] = value
                break
    return baselines


def _same(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold()


def _raise_alert(response: QuestionnaireResponse, risks: list[RiskRule]) -> RiskAlert:
    """Address the alert to the key workers of open episodes and to every organisation caring for
    the patient; the registered practice always, so an alert can never go nowhere."""
    patient = response.patient
    today = clock.today()
    episodes = Episode.objects.filter(patient=patient, closed_on__isnull=True).select_related("key_worker")
    key_workers = [e.key_worker for e in episodes if e.key_worker.is_active]
    care_team = patient.care_team.filter(start__lte=today).filter(Q(end__isnull=True) | Q(end__gte=today))
    practices = patient.registrations.filter(end__isnull=True).values("practice_id")
    organisations = Organisation.objects.filter(
        Q(pk__in=episodes.values("team_id")) | Q(pk__in=care_team.values("organisation_id")) | Q(pk__in=practices)
    )
    alert = RiskAlert.objects.create(
        response=response, patient=patient, reasons=[r.reason for r in risks], raised_at=clock.now()
    )
    alert.key_workers.set(key_workers)
    alert.organisations.set(organisations)
    audit.record(
        by=None,
        action=AuditAction.CREATE,
        what="risk_alert",
        patient=patient,
        detail={"alert": alert.pk, "response": response.pk, "organisations": sorted(o.code for o in organisations)},
    )
    transaction.on_commit(lambda: notify_alert(alert.pk))
    return alert


def alert_recipients(alert: RiskAlert) -> list[Membership]:
    """Who is messaged: the key workers; without one (or without an email address), the clinical
    staff of the addressed organisations who can open this patient's record."""
    key_workers = [m for m in alert.key_workers.select_related("user", "organisation") if m.user.email]
    if key_workers:
        return key_workers
    staff = Membership.objects.filter(organisation__in=alert.organisations.all(), is_active=True).select_related(
        "user", "organisation"
    )
    return [
        m
        for m in staff
        if m.user.email
        and has_permission(m, Permission.PATIENT_VIEW_CLINICAL)
        and can_access_patient(m, alert.patient, Permission.PATIENT_VIEW_CLINICAL)
    ]


def notify_alert(alert_id: int, backend=None) -> list[notifications.Receipt]:
    """Email each recipient that a questionnaire answer needs attention. The message is generic
    (no patient, no answer, no service: an inbox can be read by others); the detail is on the
    risk alerts page. A failure to send never loses the alert: it is counted on it and logged with
    the alert id only."""
    alert = RiskAlert.objects.select_related("patient").get(pk=alert_id)
    backend = backend or notifications.get_backend()
    receipts, failures = [], 0
    for member in alert_recipients(alert):
        message = notifications.Message(
            channel=notifications.Channel.EMAIL,
            to=member.user.email,
            template=RISK_ALERT_TEMPLATE,
            personalisation={"name": member.user.first_name or member.user.username},
            reference=f"risk-alert-{alert.pk}",
        )
        try:
            receipts.append(backend.send(message))
        except notifications.NotificationError as exc:
            failures += 1
            logger.warning("risk alert %s: message not sent: %s", alert.pk, exc.message)
    RiskAlert.objects.filter(pk=alert.pk).update(notified=len(receipts), notification_failures=failures)
    return receipts


def may_acknowledge(by: Membership, alert: RiskAlert) -> bool:
    return has_permission(by, Permission.PATIENT_RECORD_CLINICAL) and (
        alert.key_workers.filter(pk=by.pk).exists() or alert.organisations.filter(pk=by.organisation_id).exists()
    )


@transaction.atomic
def acknowledge_alert(*, alert: RiskAlert, action_taken: str, by: Membership) -> RiskAlert:
    """Close an alert, saying what was done (e.g. "Phoned; safety plan reviewed"). Of two people
    acknowledging at once, the first is kept and the second is told who got there first."""
    require_access(by, alert.patient, Permission.PATIENT_RECORD_CLINICAL, what="risk_alert")
    if not may_acknowledge(by, alert):
        raise NotPermitted("Only the key worker or the teams this alert was sent to can acknowledge it.")
    if not action_taken.strip():
        raise InvalidInput("Say what was done about this alert.")
    updated = RiskAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=clock.now(), acknowledged_by=by, action_taken=action_taken.strip()
    )
    alert.refresh_from_db()
    if updated != 1:
        who = alert.acknowledged_by.user.get_full_name() if alert.acknowledged_by else "someone else"
        raise InvalidInput(f"{who} has already acknowledged this alert: {alert.action_taken}")
    audit.record(by=by, action=AuditAction.UPDATE, what="risk_alert", patient=alert.patient, detail={"alert": alert.pk})
    return alert
