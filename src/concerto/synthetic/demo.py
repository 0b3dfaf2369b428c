"""The demo ICB: a synthetic population, one demo user per role and a few care-team links.

Idempotent: the population is generated and loaded once; users, memberships, care-team entries
and consents are created only where missing, all through the real actions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from concerto.access import actions as access_actions
from concerto.access.models import CareTeamEntry, Consent, Membership
from concerto.core import clock
from concerto.core.codelists import get as get_codelist
from concerto.organisations.models import Organisation, OrganisationKind
from concerto.people.actions import create_staff_user
from concerto.people.models import Patient, User
from concerto.records.models import ClinicalEvent

DEMO_PASSWORD = "concerto-demo"  # noqa: S105 (synthetic demo only; printed by `concerto demo`)
DEMO_PATIENTS = 40_000
DEMO_PRACTICES = 8
DEMO_PCNS = 2


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    organisation_code: str


def demo_users(icb: str = "QZZ") -> list[DemoUser]:
    practice, pcn, cmht = "Z90001", "U99001", "RZZC01"
    return [
        DemoUser("gp", "Grace", "Okafor", "gp", practice),
        DemoUser("nurse", "Sian", "Hughes", "practice_nurse", practice),
        DemoUser("admin", "Paul", "Turner", "practice_admin", practice),
        DemoUser("mhp", "Amira", "Hassan", "pcn_mh_practitioner", pcn),
        DemoUser("keyworker", "Tom", "Reid", "key_worker", cmht),
        DemoUser("clinician", "Leah", "Mensah", "cmh_clinician", "RZZE01"),
        DemoUser("manager", "Raj", "Sharma", "team_manager", cmht),
        DemoUser("linkworker", "Niamh", "Byrne", "link_worker", pcn),
        DemoUser("socialworker", "Ben", "Clarke", "la_social_worker", "LA999"),
        DemoUser("vcse", "Joy", "Campbell", "vcse_worker", "VCS02"),
        DemoUser("analyst", "Wei", "Chen", "icb_analyst", icb),
        DemoUser("sysadmin", "Sam", "Patel", "system_admin", icb),
    ]


@transaction.atomic
def ensure_demo_users() -> list[tuple[DemoUser, Membership]]:
    created = []
    for du in demo_users():
        user = User.objects.filter(username=du.username).first() or create_staff_user(
            username=du.username,
            password=DEMO_PASSWORD,
            first_name=du.first_name,
            last_name=du.last_name,
            is_staff=du.role == "system_admin",
        )
        organisation = Organisation.objects.get(code=du.organisation_code)
        membership = access_actions.add_membership(user=user, organisation=organisation, role=du.role, by=None)
        created.append((du, membership))
    # The GP also works sessions for the PCN, to show choosing a membership at log-in.
    gp = User.objects.get(username="gp")
    access_actions.add_membership(
        user=gp, organisation=Organisation.objects.get(code="U99001"), role="pcn_mh_practitioner", by=None
    )
    return created


@transaction.atomic
def ensure_care_teams() -> int:
    """Put the CMHT, the council and a VCSE partner on some SMI patients' care teams, as the GP,
    with consent recorded for the council and VCSE where the patient agreed."""
    gp = Membership.objects.get(user__username="gp", role="gp")
    cmht = Organisation.objects.get(code="RZZC01")
    la = Organisation.objects.get(kind=OrganisationKind.LOCAL_AUTHORITY, code="LA999")
    music = Organisation.objects.get(code="VCS02")
    mh_codes = get_codelist("smi_mh_cod_pcd2025").code_set
    smi_patients = list(
        Patient.objects.filter(
            registrations__practice=gp.organisation,
            registrations__end__isnull=True,
            date_of_death__isnull=True,
            pk__in=ClinicalEvent.objects.filter(code__in=mh_codes).values("patient_id"),
        ).order_by("pk")[:30]
    )
    added = 0
    start = clock.today() - dt.timedelta(days=90)
    for i, patient in enumerate(smi_patients):
        links = [(cmht, "Community mental health team")]
        if i % 3 == 0:
            links.append((la, "Adult social care"))
        if i % 4 == 0:
            links.append((music, "Community music group"))
        for organisation, role_in_care in links:
            if not CareTeamEntry.objects.filter(patient=patient, organisation=organisation, end__isnull=True).exists():
                access_actions.add_to_care_team(
                    patient=patient, organisation=organisation, role_in_care=role_in_care, start=start, by=gp
                )
                added += 1
        for kind, agreed in ((OrganisationKind.LOCAL_AUTHORITY, i % 2 == 0), (OrganisationKind.VCSE, True)):
            if not Consent.objects.filter(patient=patient, organisation_kind=kind).exists():
                access_actions.record_consent(patient=patient, organisation_kind=kind, granted=agreed, by=gp)
    return added


@transaction.atomic
def ensure_referrals() -> int:
    """A few referrals in every state, made through the real actions, so the triage hub, waiting
    list and caseload have something to show. Only on the first run."""
    from concerto.referrals import actions as referrals
    from concerto.referrals.models import Referral

    if Referral.objects.exists():
        return 0
    gp = Membership.objects.get(user__username="gp", role="gp")
    manager = Membership.objects.get(user__username="manager")
    keyworker = Membership.objects.get(user__username="keyworker")
    eip_clinician = Membership.objects.get(user__username="clinician")
    cmht, eip, music = (Organisation.objects.get(code=c) for c in ("RZZC01", "RZZE01", "VCS02"))
    mh_codes = get_codelist("smi_mh_cod_pcd2025").code_set
    people = list(
        Patient.objects.filter(
            registrations__practice=gp.organisation,
            registrations__end__isnull=True,
            date_of_death__isnull=True,
            pk__in=ClinicalEvent.objects.filter(code__in=mh_codes).values("patient_id"),
        ).order_by("-pk")[:8]
    )
    if len(people) < 8:  # a tiny demo population: skip the examples rather than half-make them
        return 0
    today = clock.today()
    reasons = [
        "Increasingly withdrawn, stopped attending work; family worried about voices.",
        "Relapse signs after stopping medication; wants support to get back on track.",
        "Low mood and isolation since bereavement; would like help getting out more.",
        "Asked for help finding work; IPS may suit.",
        "Paranoid thoughts for three weeks, first time; urgent assessment.",
        "Struggling with debts and housing; anxious and not sleeping.",
        "Recently moved to the area; needs a care coordinator.",
        "Carer exhausted; review of support needed.",
    ]
    made = []
    for i, patient in enumerate(people):
        destination = eip if i == 4 else cmht
        made.append(
            referrals.refer(
                patient=patient,
                destination=destination,
                reason=reasons[i],
                by=gp,
                received_on=today - dt.timedelta(days=3 + 6 * i),
            )
        )
    r = referrals.accept(
        referral=made[1],
        version=made[1].version,
        named_person=keyworker,
        rationale="Known to the team; relapse plan",
        by=manager,
    )
    referrals.record_assessment(referral=r, version=r.version, on=today - dt.timedelta(days=2), by=keyworker)
    r = referrals.accept(
        referral=made[6],
        version=made[6].version,
        named_person=keyworker,
        rationale="Needs care coordination",
        by=manager,
    )
    referrals.record_contact(episode=r.episode, on=today - dt.timedelta(days=10), outcome="attended", by=keyworker)
    referrals.record_contact(episode=r.episode, on=today - dt.timedelta(days=3), outcome="attended", by=keyworker)
    referrals.redirect(
        referral=made[2],
        version=made[2].version,
        destination=music,
        handover_note="Loneliness more than illness: Harmony's Tuesday group, Joy expects them.",
        by=manager,
        consent_confirmed=True,  # the person agreed to Harmony being told (recorded by the action)
    )
    r = referrals.accept(
        referral=made[4],
        version=made[4].version,
        named_person=eip_clinician,
        rationale="First episode psychosis",
        by=eip_clinician,
    )
    r = referrals.record_assessment(referral=r, version=r.version, on=today - dt.timedelta(days=20), by=eip_clinician)
    referrals.start_treatment(referral=r, version=r.version, on=today - dt.timedelta(days=14), by=eip_clinician)
    referrals.triage(
        referral=made[3], version=made[3].version, rationale="Discuss IPS at Tuesday's meeting", by=manager
    )
    return len(made)
