"""Demo care and crisis plans, written and agreed through the real actions by the demo key worker
for a few patients on the community mental health team's care team. Only on the first run.

Phone numbers are from Ofcom's ranges reserved for drama (01632 960xxx, 07700 900xxx), so none
of them rings anyone."""

import datetime as dt
from typing import Any

from django.db import transaction

from concerto.access.models import CareTeamEntry, Membership
from concerto.careplans import actions
from concerto.careplans.models import AgreedHow, Kind, PlanVersion
from concerto.core import clock

_PEOPLE: list[dict[str, Any]] = [
    {
        "what_matters": "Getting back to my allotment and seeing my grandson at weekends.\n"
        "Not ending up in hospital again.",
        "needs": "Wants more help with mental health and with friendships; finds mornings hardest.",
        "goals": [("Go to the allotment twice a week", 2, 5), ("Sleep through most nights", 3, 4)],
        "actions": [
            ("Weekly visit to plan the week", "Northgate Community Mental Health Team", "Tom Reid", "in_progress"),
            ("Introduce to the Tuesday music group", "Harmony Community Music", "Joy Campbell", "not_started"),
        ],
        "physical": [("Annual physical health check, including blood tests", "Practice nurse", "not_started")],
        "medication": "Olanzapine 10 mg at night. Worried about weight gain; wants to talk about options at review.",
        "carer": ("Maria", "Sister", "07700900123"),
        "signs": "Stops answering the phone. Sleeps in the day and is up all night. Says the TV is talking about them.",
        "helps": "A call from Maria. Walking the dog. Being told clearly what will happen next.",
        "avoid": "Crowded waiting rooms. Being asked the same questions by lots of people.",
        "advance": "If I need to go to hospital I would like Maria to be told and to look after the dog.",
    },
    {
        "what_matters": "Keeping my flat and my job at the café.",
        "needs": "Wants help with money worries and with feeling anxious on the bus.",
        "goals": [("Travel to work by bus on my own", 3, 6), ("Make a budget that lasts the month", 1, 3)],
        "actions": [
            ("Benefits and debt advice appointment", "Citizens Advice", "", "not_started"),
            ("Graded practice of bus journeys", "Northgate Community Mental Health Team", "Tom Reid", "in_progress"),
        ],
        "physical": [("Stop smoking support", "GP practice", "not_started")],
        "medication": "Aripiprazole 15 mg in the morning. Happy with it.",
        "carer": ("Dev", "Partner", "01632960456"),
        "signs": "Stops eating, checks the locks again and again, calls in sick.",
        "helps": "Talking it through with Dev. Breathing exercises. Texting the key worker.",
        "avoid": "Alcohol. Being left alone for long stretches.",
        "advance": "",
    },
    {
        "what_matters": "Being a good dad and finishing my college course.",
        "needs": "Wants more help with daily activities and with his physical health.",
        "goals": [("Hand in my coursework on time", 4, 7)],
        "actions": [
            ("Meet the IPS employment specialist", "Northgate Community Mental Health Team", "", "not_started")
        ],
        "physical": [("Blood pressure re-check", "Practice nurse", "not_started")],
        "medication": "Lithium; levels every three months.",
        "carer": ("Aisha", "Mother", "01632960789"),
        "signs": "Spending a lot of money, not sleeping, talking very fast.",
        "helps": "Keeping a routine, early nights, Aisha noticing and saying so.",
        "avoid": "Caffeine and late nights; arguments about money.",
        "advance": "I agree to my lithium level being checked if my family are worried.",
    },
]

CMHT_CODE = "RZZC01"


@transaction.atomic
def ensure_care_plans() -> int:
    """Agreed care and crisis plans for the first few patients on the CMHT's care team; one of
    them has a newer draft on top of the agreed version, to show the difference view."""
    if PlanVersion.objects.exists():
        return 0
    keyworker = Membership.objects.filter(user__username="keyworker", organisation__code=CMHT_CODE).first()
    if keyworker is None:
        return 0
    entries = (
        CareTeamEntry.objects.filter(organisation=keyworker.organisation, end__isnull=True)
        .select_related("patient")
        .order_by("patient_id")[: len(_PEOPLE)]
    )
    today = clock.today()
    made = 0
    for i, (entry, person) in enumerate(zip(entries, _PEOPLE, strict=False)):
        patient = entry.patient
        care = {
            "what_matters": person["what_matters"],
            "needs": person["needs"],
            "goals": [{"goal": g, "baseline": b, "current": c} for g, b, c in person["goals"]],
            "actions": [
                {
                    "what": what,
                    "organisation": org,
                    "person": who,
                    "by_when": (today + dt.timedelta(days=28)).isoformat(),
                    "status": status,
                }
                for what, org, who, status in person["actions"]
            ],
            "physical_health": [
                {"what": what, "organisation": org, "person": "", "by_when": None, "status": status}
                for what, org, status in person["physical"]
            ],
            "medication_notes": person["medication"],
            "contacts": [dict(zip(("name", "relationship", "phone"), person["carer"], strict=True))],
            "review_date": (today + dt.timedelta(days=90 if i else 10)).isoformat(),
        }
        crisis = {
            "early_warning_signs": person["signs"],
            "what_helps": person["helps"],
            "what_to_avoid": person["avoid"],
            "contacts": [
                {
                    "name": "Tom Reid",
                    "role": "Key worker, Northgate CMHT",
                    "phone": "01632960100",
                    "hours": "9am to 5pm, Monday to Friday",
                },
                {
                    "name": "Crisis resolution and home treatment team",
                    "role": "Out of hours",
                    "phone": "01632960999",
                    "hours": "5pm to 9am, weekends and bank holidays",
                },
                {
                    "name": person["carer"][0],
                    "role": person["carer"][1],
                    "phone": person["carer"][2],
                    "hours": "Any time",
                },
            ],
            "advance_statements": person["advance"],
        }
        for kind, content in ((Kind.CARE, care), (Kind.CRISIS, crisis)):
            draft = actions.save_plan(
                patient=patient, kind=kind, based_on=0, content=content, change_note="First plan", by=keyworker
            )
            actions.agree_plan(
                patient=patient,
                kind=kind,
                based_on=draft.number,
                agreed_with=f"{patient.given_name} {patient.family_name}",
                agreed_on=today,  # agreement cannot predate the version it agrees, which is written now
                how=AgreedHow.IN_PERSON,
                by=keyworker,
            )
            made += 1
        if i == 0:  # a newer draft on the first person's care plan: the difference view has something to show
            goals = [dict(g) for g in care["goals"]]
            goals[0]["current"] = 6
            actions.save_plan(
                patient=patient,
                kind=Kind.CARE,
                based_on=actions.latest_version(patient, Kind.CARE).number,  # type: ignore[union-attr]
                content={**care, "goals": goals, "needs": care["needs"] + "\nAlso wants help with cooking."},
                change_note="Allotment going well; cooking added",
                by=keyworker,
            )
    return made
