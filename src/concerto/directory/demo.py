"""A fixed community directory for the demo area (fictional Demotown, postcodes DM1–DM8), written
as an Open Referral UK file and loaded through the real import. Run by `concerto demo`; importing
it again changes nothing (records are matched on their ids)."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from typing import Any

from concerto.core import clock
from concerto.directory import actions
from concerto.directory.models import Service
from concerto.directory.taxonomy import VOCABULARIES, term_id
from concerto.notifications import override_backend
from concerto.notifications.console import ConsoleBackend

NAMESPACE = uuid.UUID("5e0d3a1c-2b4f-4c6d-8e9f-a0b1c2d3e4f5")

ORGANISATIONS = {
    # key: (name, description, Concerto organisation code or None)
    "mind": ("Demo Mind", "Local mental health charity: peer support, debt and housing advice, bereavement.", "VCS01"),
    "harmony": ("Harmony Community Music", "Community music for wellbeing: choirs, bands and drumming.", "VCS02"),
    "peer": ("Peer Support Network", "Groups run by and for people with lived experience.", "VCS03"),
    "advice": ("Demotown Advice Centre", "Independent advice on money, benefits and housing.", None),
}

# (key, organisation, name, description, needs/life-course codes, postcode, [(day, opens, closes)], cost,
#  (min age, max age), months since last verified)
SERVICES = [
    (
        "singing",
        "harmony",
        "Sing Your Heart Out",
        "A friendly drop-in singing group for wellbeing. No experience "
        "or reading music needed; tea and a chat afterwards.",
        ["music", "loneliness"],
        "DM1 2AB",
        [("TU", "14:00", "16:00")],
        0,
        (18, None),
        2,
    ),
    (
        "band",
        "harmony",
        "Riverside Community Band",
        "Play in a relaxed community band: brass, woodwind and percussion; instruments to borrow.",
        ["music", "arts"],
        "DM3 4CD",
        [("TH", "18:30", "20:30")],
        0,
        (16, None),
        5,
    ),
    (
        "drumming",
        "harmony",
        "Drumming for Wellbeing",
        "Group African drumming sessions to lift mood and meet people.",
        ["music", "physical-activity"],
        "DM8 1EF",
        [("SA", "10:00", "11:30")],
        3,
        (18, None),
        14,
    ),
    (
        "youth-music",
        "harmony",
        "Young Musicians Project",
        "Music making, song writing and recording for young people.",
        ["music", "young-people"],
        "DM2 3GH",
        [("WE", "16:00", "18:00")],
        0,
        (11, 18),
        3,
    ),
    (
        "schools",
        "harmony",
        "Music in Schools",
        "Wellbeing through music: a programme in primary and secondary schools.",
        ["music", "young-people", "schools"],
        "DM1 5JK",
        [("MO", "09:00", "15:00")],
        0,
        (5, 18),
        4,
    ),
    (
        "peer-group",
        "peer",
        "Hearing Voices Peer Group",
        "A safe space to share experiences of hearing voices, run by people with lived experience.",
        ["peer-support"],
        "DM2 6LM",
        [("MO", "18:00", "19:30")],
        0,
        (18, None),
        1,
    ),
    (
        "walk",
        "peer",
        "Walk and Talk",
        "Gentle weekly walks in the park with peer supporters.",
        ["physical-activity", "peer-support", "nature", "loneliness"],
        "DM6 7NP",
        [("FR", "11:00", "12:30")],
        0,
        (18, None),
        6,
    ),
    (
        "carers",
        "peer",
        "Carers' Café",
        "Peer support and a break for unpaid carers.",
        ["carers", "peer-support"],
        "DM4 8QR",
        [("WE", "10:00", "12:00")],
        0,
        (16, None),
        20,
    ),
    (
        "work",
        "peer",
        "Working Well",
        "Peer support to return to or stay in work, with employers in the workplace.",
        ["employment", "workplaces"],
        "DM5 9ST",
        [("TU", "10:00", "13:00")],
        0,
        (18, 66),
        2,
    ),
    (
        "debt",
        "mind",
        "Money Worries Clinic",
        "One-to-one debt advice and budgeting help, with a mental health focus.",
        ["debt", "benefits"],
        "DM1 1UW",
        [("MO", "09:30", "16:30"), ("TH", "09:30", "16:30")],
        0,
        (18, None),
        3,
    ),
    (
        "housing",
        "mind",
        "Housing Support Service",
        "Help to keep a tenancy, sort out repairs or find somewhere to live.",
        ["housing"],
        "DM7 2XY",
        [("WE", "09:00", "17:00")],
        0,
        (18, None),
        8,
    ),
    (
        "bereavement",
        "mind",
        "Bereavement Support Group",
        "Meet others who have lost someone; facilitated sessions every fortnight.",
        ["bereavement", "end-of-life"],
        "DM3 3AB",
        [("TH", "14:00", "15:30")],
        0,
        (18, None),
        5,
    ),
    (
        "parents",
        "mind",
        "New Parents Wellbeing",
        "Support for parents struggling with their mood in the first two years.",
        ["parenting", "parents"],
        "DM5 4CD",
        [("FR", "10:00", "11:30")],
        0,
        (16, None),
        2,
    ),
    (
        "older",
        "mind",
        "Silver Connections",
        "Befriending, lunch club and activities for older people living alone.",
        ["older-people", "loneliness", "retirement"],
        "DM6 5EF",
        [("TU", "12:00", "15:00")],
        2.5,
        (60, None),
        30,
    ),
    (
        "art",
        "mind",
        "Arts on Prescription",
        "Twelve-week creative course: painting, print-making and collage in a small group.",
        ["arts"],
        "DM8 6GH",
        [("WE", "13:00", "15:00")],
        0,
        (18, None),
        4,
    ),
    (
        "alcohol",
        "mind",
        "Alcohol and Drugs Recovery Café",
        "A sober social space and recovery peer support.",
        ["substance-use", "peer-support"],
        "DM4 7JK",
        [("SA", "12:00", "16:00")],
        0,
        (18, None),
        7,
    ),
    (
        "advice",
        "advice",
        "Benefits and Money Advice",
        "Free, confidential advice on benefits, debt and bills.",
        ["benefits", "debt"],
        "DM1 8LM",
        [("MO", "10:00", "16:00"), ("WE", "10:00", "16:00")],
        0,
        (None, None),
        9,
    ),
]


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def _term(code: str) -> dict:
    for taxonomy, terms in VOCABULARIES.items():
        for term_code, name, description in terms:
            if term_code == code:
                return {
                    "id": term_id(taxonomy.value, code),
                    "name": name,
                    "description": description,
                    "taxonomy": taxonomy.value,
                    "term": code,
                }
    raise KeyError(code)


def _organisation(key: str) -> dict:
    name, description, code = ORGANISATIONS[key]
    org: dict = {"id": _id("org", key), "name": name, "description": description}
    if code:
        org["organization_identifiers"] = [
            {"identifier_scheme": "concerto", "identifier_type": "Concerto organisation code", "identifier": code}
        ]
    return org


def document(today: dt.date | None = None) -> dict:
    """The demo directory as an ORUK v3 page of services."""
    today = today or clock.today()
    contents = []
    for key, org, name, description, codes, postcode, times, cost, (low, high), months in SERVICES:
        sid = _id("service", key)
        location_id = _id("location", key)
        service: dict[str, Any] = {
            "id": sid,
            "organization_id": _id("org", org),
            "organization": _organisation(org),
            "name": name,
            "description": description,
            "status": "active",
            "email": f"{key}@example.org",
            "assured_date": clock.months_before(today, months).isoformat(),
            "service_at_locations": [
                {
                    "id": _id("sal", key),
                    "service_id": sid,
                    "location_id": location_id,
                    "location": {
                        "id": location_id,
                        "location_type": "physical",
                        "name": f"{name} venue",
                        "addresses": [
                            {
                                "id": _id("address", key),
                                "location_id": location_id,
                                "address_1": "Community Hall",
                                "city": "Demotown",
                                "state_province": "",
                                "postal_code": postcode,
                                "country": "GB",
                                "address_type": "physical",
                            }
                        ],
                    },
                }
            ],
            "schedules": [
                {
                    "id": _id("schedule", key, day),
                    "service_id": sid,
                    "freq": "WEEKLY",
                    "byday": day,
                    "opens_at": opens,
                    "closes_at": closes,
                }
                for day, opens, closes in times
            ],
            "cost_options": [
                {"id": _id("cost", key), "service_id": sid, "option": "Per session" if cost else "Free", "amount": cost}
            ],
            "contacts": [{"id": _id("contact", key), "service_id": sid, "name": "Duty worker", "title": "Coordinator"}],
            "attributes": [
                {
                    "id": _id("attribute", key, code),
                    "link_id": sid,
                    "link_type": "service",
                    "taxonomy_term_id": _term(code)["id"],
                    "taxonomy_term": _term(code),
                }
                for code in codes
            ],
        }
        if low is not None:
            service["minimum_age"] = low
        if high is not None:
            service["maximum_age"] = high
        contents.append(service)
    return {"total_items": len(contents), "contents": contents}


def ensure_directory() -> int:
    """Load the demo directory on the first run; returns how many services it added."""
    if Service.objects.exists():
        return 0
    result = actions.import_services(text=json.dumps(document()), by=None)
    _demo_activity()
    # Setting up the demo tells nobody: its status messages go to a discarded console.
    with override_backend(ConsoleBackend(stream=io.StringIO())):
        _demo_social_prescribing()
    return result.created


def _demo_social_prescribing() -> None:
    """A small link-worker caseload at the demo practice, made through the real actions: one person
    attending the singing group (with wellbeing before and after), one waiting for Harmony to
    decide, one handed over from Harmony to the walking group."""
    from concerto.access.models import Membership
    from concerto.people.models import Patient

    link = Membership.objects.filter(user__username="linkworker").first()
    vcse = Membership.objects.filter(user__username="vcse", organisation__code="VCS02").first()
    if link is None or vcse is None:
        return
    adults = list(
        Patient.objects.filter(
            registrations__practice__code="Z90001",
            registrations__end__isnull=True,
            date_of_death__isnull=True,
            date_of_birth__lte=clock.today() - dt.timedelta(days=30 * 365),
            date_of_birth__gte=clock.today() - dt.timedelta(days=70 * 365),
            referrals__isnull=True,
        ).order_by("-pk")[:3]
    )
    if len(adults) < 3:
        return
    singing = Service.objects.get(oruk_id=_id("service", "singing"))
    walk = Service.objects.get(oruk_id=_id("service", "walk"))
    stories = [
        ("Wants to get out of the house; used to sing in the church choir.", "Enjoys music; lonely since retiring."),
        ("Feels low on Sundays; would like something to look forward to.", "Would like a regular group to join."),
        ("Finds groups hard at first; likes being outdoors.", "Anxious in groups; music might help."),
    ]
    prescriptions = []
    for patient, (matters, reason) in zip(adults, stories, strict=True):
        actions.add_what_matters(patient=patient, text=matters, by=link)
        prescriptions.append(
            actions.prescribe(patient=patient, service=singing, reason=reason, by=link, consent_confirmed=True)
        )
    attending, _waiting, handed_over = prescriptions
    scores = {"life_satisfaction": 4, "worthwhile": 4, "happiness": 3, "anxiety": 7}
    actions.record_wellbeing(prescription=attending, on=clock.today(), by=link, **scores)
    actions.accept(prescription=attending, version=attending.referral.version, by=vcse)
    actions.record_attendance(prescription=attending, on=clock.today(), attended=True, by=vcse)
    actions.decline(
        prescription=handed_over,
        version=handed_over.referral.version,
        to_service=walk,
        handover_note="Our Tuesday group is large; the walking group is quieter and outdoors.",
        by=vcse,
    )


def _demo_activity() -> None:
    """Six months of returns for the music-in-schools programme, by the demo VCSE worker."""
    from concerto.access.models import Membership

    vcse = Membership.objects.filter(user__username="vcse", organisation__code="VCS02").first()
    service = Service.objects.filter(oruk_id=_id("service", "schools")).first()
    if vcse is None or service is None:
        return
    month = clock.today().replace(day=1)
    for n in range(6):
        month = (month - dt.timedelta(days=1)).replace(day=1)
        actions.record_programme_activity(
            service=service, month=month, sessions=8 + n, participants=40 + 7 * n, by=vcse
        )
