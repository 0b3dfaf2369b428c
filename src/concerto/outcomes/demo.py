"""Demo questionnaires: DIALOG, PHQ-9, GAD-7 and GBO series over the last year for a few patients on
the demo CMHT's care teams, recorded through the real action by the CMHT key worker (some completed
by the patient), and one PHQ-9 risk answer so the risk alerts page has something to show.
Deterministic, and only on the first run."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from concerto.access.models import CareTeamEntry, Membership
from concerto.core import clock
from concerto.outcomes.actions import record_response
from concerto.outcomes.models import QuestionnaireResponse

CMHT = "RZZC01"
PATIENTS = 6
MONTHS = (11, 8, 5, 3, 1, 0)  # months ago, oldest first


def _dialog(step: int, person: int) -> dict:
    # Slowly more satisfied; help wanted where a domain is still low.
    # Treatment (items 9-11) is rated a little higher than life at first, as is common.
    ratings = [min(7, max(1, 2 + (step + person + n) % 3 + step // 2 + (n >= 8) * (step < 3))) for n in range(11)]
    answers = {str(n + 1): r for n, r in enumerate(ratings)}
    return answers | {f"{n + 1}-help": r <= 3 for n, r in enumerate(ratings)}


def _frequency(items: int, step: int, person: int) -> dict:
    # Fewer symptoms over time; PHQ-9 question 9 stays at 0 (the risk example is separate).
    level = max(0, 3 - step // 2 - (person % 2))
    return {str(n + 1): (level if n % 3 else max(0, level - 1)) for n in range(items)} | (
        {"9": 0} if items == 9 else {}
    )


@transaction.atomic
def ensure_responses() -> int:
    if QuestionnaireResponse.objects.exists():
        return 0
    key_worker = Membership.objects.filter(user__username="keyworker", organisation__code=CMHT).first()
    if key_worker is None:
        return 0
    patients = [
        entry.patient
        for entry in CareTeamEntry.objects.filter(organisation=key_worker.organisation, end__isnull=True)
        .select_related("patient")
        .order_by("patient_id")[:PATIENTS]
    ]
    today = clock.today()
    made = 0
    for person, patient in enumerate(patients):
        for step, months in enumerate(MONTHS):
            on = clock.months_before(today, months) - dt.timedelta(days=person)
            by_patient = step % 2 == 1
            for key, answers in (
                ("dialog", _dialog(step, person)),
                ("phq9", _frequency(9, step, person)),
                ("gad7", _frequency(7, step, person)),
            ):
                record_response(
                    patient=patient,
                    questionnaire=key,
                    answers=answers,
                    by=key_worker,
                    completed_by_patient=by_patient,
                    completed_on=on,
                )
                made += 1
            if person < 2 and step % 2 == 0:
                goals = {
                    "goal1_text": "Get back to volunteering at the allotment",
                    "goal1_rating": min(10, 2 + step * 2),
                    "goal2_text": "Sleep through most nights",
                    "goal2_rating": min(10, 3 + step),
                }
                record_response(patient=patient, questionnaire="gbo", answers=goals, by=key_worker, completed_on=on)
                made += 1
    if patients:
        risky = _frequency(9, 0, 0) | {"9": 1}
        record_response(patient=patients[-1], questionnaire="phq9", answers=risky, by=key_worker, completed_on=today)
        made += 1
    return made
