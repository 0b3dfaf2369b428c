"""Outcome reads. Staff selectors take the acting membership (`by=`) and check it against the access
policy; the page that calls them (`patient_view`) has audited the read, one record per page. The
`*_for_patient` variants are for the portal, which binds the session to the patient: they read
only that patient's rows and audit the patient as the actor."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.http import Http404

from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import require_access, visible_patients
from concerto.outcomes import definitions
from concerto.outcomes.models import QuestionnaireResponse, RiskAlert
from concerto.people.models import Patient

DIALOG = "dialog"
DIALOG_ITEMS = tuple(str(n) for n in range(1, 12))


@dataclass(frozen=True)
class DialogDomain:
    number: int
    label: str
    subscale: str  # "life" (items 1-8) or "treatment" (items 9-11)
    rating: int
    wants_more_help: bool

    @property
    def score(self) -> int:
        return self.rating


@dataclass(frozen=True)
class DialogSummary:
    response_id: int
    completed_on: dt.date
    quality_of_life: float
    treatment_satisfaction: float
    domains: tuple[DialogDomain, ...]

    @property
    def needs(self) -> tuple[DialogDomain, ...]:
        """The domains where the patient wants more help: the plan's "needs from DIALOG"."""
        return tuple(d for d in self.domains if d.wants_more_help)


@dataclass(frozen=True)
class ScorePoint:
    completed_on: dt.date
    response_id: int
    score: str
    label: str
    value: float
    band: str
    change: float | None = None


def _check(by: Membership, patient: Patient, what: str) -> None:
    require_access(by, patient, Permission.PATIENT_VIEW_CLINICAL, what=what)


def _responses(patient: Patient, questionnaire: str | None) -> QuerySet[QuestionnaireResponse]:
    found = QuestionnaireResponse.objects.filter(patient=patient).select_related("recorded_by__user")
    if questionnaire:
        found = found.filter(questionnaire_key=questionnaire)
    return found.order_by("-completed_on", "-recorded_at", "-pk")


def responses(patient: Patient, *, by: Membership, questionnaire: str | None = None) -> list[QuestionnaireResponse]:
    """The patient's responses, newest first (optionally of one questionnaire)."""
    _check(by, patient, "questionnaire_responses")
    return list(_responses(patient, questionnaire))


def get_response(patient: Patient, *, by: Membership, response_id: int) -> QuestionnaireResponse:
    _check(by, patient, "questionnaire_response")
    response = _responses(patient, None).filter(pk=response_id).first()
    if response is None:
        raise Http404("No questionnaire response found")
    return response


def _dialog_summary(response: QuestionnaireResponse | None) -> DialogSummary | None:
    if response is None:
        return None
    definition = definitions.all_questionnaires().get(DIALOG)
    domains = []
    for number, link_id in enumerate(DIALOG_ITEMS, start=1):
        item = definition.item(link_id) if definition else None
        domains.append(
            DialogDomain(
                number=number,
                label=item.group if item else f"Item {number}",
                subscale=(item.subscale if item else "") or ("life" if number <= 8 else "treatment"),
                rating=response.answers[link_id],
                wants_more_help=bool(response.answers.get(f"{link_id}-help")),
            )
        )
    return DialogSummary(
        response_id=response.pk,
        completed_on=response.completed_on,
        quality_of_life=response.scores["quality_of_life"]["value"],
        treatment_satisfaction=response.scores["treatment_satisfaction"]["value"],
        domains=tuple(domains),
    )


def latest_dialog(patient: Patient, *, by: Membership) -> DialogSummary | None:
    """The latest DIALOG: both means, each domain's rating and whether more help is wanted."""
    _check(by, patient, "dialog")
    return _dialog_summary(_responses(patient, DIALOG).first())


def _series(patient: Patient, questionnaire_key: str) -> list[ScorePoint]:
    points = []
    for response in reversed(list(_responses(patient, questionnaire_key))):
        for key, score in response.scores.items():
            if score.get("value") is None:
                continue
            points.append(
                ScorePoint(
                    completed_on=response.completed_on,
                    response_id=response.pk,
                    score=key,
                    label=_score_label(questionnaire_key, key),
                    value=score["value"],
                    band=score.get("band", ""),
                    change=score.get("change"),
                )
            )
    return points


def _score_label(questionnaire_key: str, score_key: str) -> str:
    definition = definitions.all_questionnaires().get(questionnaire_key)
    rule = next((r for r in definition.scoring if r.key == score_key), None) if definition else None
    return rule.label if rule else score_key.replace("_", " ").capitalize()


def score_series(patient: Patient, questionnaire_key: str, *, by: Membership) -> list[ScorePoint]:
    """Every score of one questionnaire over time, oldest first, for charts and tables."""
    _check(by, patient, "questionnaire_scores")
    return _series(patient, questionnaire_key)


def alerts_for(patient: Patient, *, by: Membership) -> list[RiskAlert]:
    """The patient's risk alerts, open ones first."""
    _check(by, patient, "risk_alerts")
    return list(
        RiskAlert.objects.filter(patient=patient)
        .select_related("response", "acknowledged_by__user")
        .order_by(F("acknowledged_at").asc(nulls_first=True), "-raised_at")
    )


def open_alerts(*, by: Membership) -> list[RiskAlert]:
    """Open risk alerts for the member: addressed to them as key worker or to their organisation,
    about patients the policy lets them see clinically (a list never shows what a click refuses)."""
    alerts = list(
        RiskAlert.objects.filter(acknowledged_at__isnull=True)
        .filter(Q(key_workers=by) | Q(organisations=by.organisation_id))
        .filter(patient__in=visible_patients(by, Permission.PATIENT_VIEW_CLINICAL))
        .distinct()
        .select_related("patient", "response")
        .order_by("raised_at", "pk")
    )
    audit.record(
        by=by,
        action=AuditAction.VIEW,
        what="risk_alerts",
        detail={"alert_ids": [a.pk for a in alerts], "patient_ids": [a.patient_id for a in alerts]},
    )
    return alerts


def get_alert(patient: Patient, *, by: Membership, alert_id: int) -> RiskAlert:
    _check(by, patient, "risk_alert")
    alert = RiskAlert.objects.filter(patient=patient, pk=alert_id).select_related("response").first()
    if alert is None:
        raise Http404("No alert found")
    return alert


@dataclass(frozen=True)
class Latest:
    title: str
    key: str
    response: QuestionnaireResponse
    scores: tuple[tuple[str, float, str], ...]  # (label, value, band) of each score it has


def latest_per_questionnaire(patient: Patient, *, by: Membership) -> list[Latest]:
    """For the patient summary: the newest response of each questionnaire."""
    _check(by, patient, "questionnaire_responses")
    latest: dict[str, QuestionnaireResponse] = {}
    for response in _responses(patient, None):
        latest.setdefault(response.questionnaire_key, response)
    ordered = sorted(latest.items(), key=lambda kv: kv[1].questionnaire_title)
    return [
        Latest(
            r.questionnaire_title,
            key,
            r,
            tuple(
                (_score_label(key, k), v["value"], v.get("band", ""))
                for k, v in r.scores.items()
                if v.get("value") is not None
            ),
        )
        for key, r in ordered
    ]


# --- the portal: the session's own patient, audited with the patient as actor -------------------


def responses_for_patient(patient: Patient, questionnaire: str | None = None) -> list[QuestionnaireResponse]:
    audit.record_by_patient(patient=patient, action=AuditAction.VIEW, what="portal_questionnaire_responses")
    return list(_responses(patient, questionnaire))


def latest_dialog_for_patient(patient: Patient) -> DialogSummary | None:
    audit.record_by_patient(patient=patient, action=AuditAction.VIEW, what="portal_dialog")
    return _dialog_summary(_responses(patient, DIALOG).first())


def score_series_for_patient(patient: Patient, questionnaire_key: str) -> list[ScorePoint]:
    audit.record_by_patient(
        patient=patient,
        action=AuditAction.VIEW,
        what="portal_questionnaire_scores",
        detail={"questionnaire": questionnaire_key},
    )
    return _series(patient, questionnaire_key)
