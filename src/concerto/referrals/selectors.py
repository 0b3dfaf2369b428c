"""Referral reads: the triage hub, waiting lists with clocks, caseloads, a patient's referrals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import has_permission, require_access, visible_patients
from concerto.core import clock
from concerto.organisations.models import Organisation, OrganisationKind
from concerto.people.models import Patient
from concerto.referrals import standards
from concerto.referrals.models import OPEN_STATUSES, Episode, Referral, Status


@dataclass(frozen=True)
class Clock:
    """How long a referral has waited since the first referral, against its pathway's standard."""

    started: dt.date
    stops_at: str
    stopped: dt.date | None
    target_days: int
    days: int
    breached: bool
    standard: str

    @property
    def running(self) -> bool:
        return self.stopped is None


def clock_for(referral: Referral, today: dt.date | None = None) -> Clock:
    std = standards.load()[referral.pathway]
    stopped = {
        "first_contact": referral.first_contact_on,
        "assessed": referral.assessed_on,
        "treatment_started": referral.treatment_started_on,
    }[std.stops_at]
    # A closed referral's clock stops when it closed (if its milestone was never reached).
    end = stopped or referral.closed_on or today or clock.today()
    days = (end - referral.clock_start).days
    return Clock(
        referral.clock_start, std.stops_at, stopped, std.target_days, days, days > std.target_days, std.standard
    )


def teams_in_scope(membership: Membership) -> list[Organisation]:
    """The services whose referrals this member handles: their own, or for a PCN triage hub the
    teams aligned to the PCN plus the PCN itself."""
    org = membership.organisation
    if org.kind == OrganisationKind.PCN:
        return [*Organisation.objects.filter(aligned_pcn=org).order_by("name")]
    return [org]


def _managed(by: Membership) -> QuerySet[Referral]:
    if not by.role_definition.has(Permission.REFERRAL_MANAGE):
        return Referral.objects.none()
    # Only patients the policy lets this member see: a list must never show what a click would refuse.
    return Referral.objects.filter(
        destination__in=teams_in_scope(by), patient__in=visible_patients(by, Permission.PATIENT_VIEW_DEMOGRAPHICS)
    )


def triage_queue(*, by: Membership) -> list[Referral]:
    """New and triaged referrals for the hub's weekly meeting, oldest clock first."""
    referrals = list(
        _managed(by)
        .filter(status__in=[Status.RECEIVED, Status.TRIAGED])
        .select_related("patient", "destination", "referrer__organisation", "redirected_from__destination")
        .order_by("clock_start", "id")
    )
    _audit_list(by, "triage_queue", referrals)
    return referrals


def waiting_list(*, by: Membership, pathway: str | None = None) -> list[tuple[Referral, Clock]]:
    referrals = _managed(by).filter(status__in=OPEN_STATUSES)
    if pathway:
        referrals = referrals.filter(pathway=pathway)
    rows = [
        (r, clock_for(r))
        for r in referrals.select_related("patient", "destination", "named_person__user").order_by("clock_start", "id")
    ]
    _audit_list(by, "waiting_list", [r for r, _ in rows])
    return rows


def caseload(*, by: Membership) -> list[Episode]:
    episodes = list(
        Episode.objects.filter(key_worker=by, closed_on__isnull=True)
        .select_related("patient", "referral", "team")
        .order_by("patient__family_name", "patient__given_name")
    )
    audit.record(
        by=by, action=AuditAction.VIEW, what="caseload", detail={"patient_ids": [e.patient_id for e in episodes]}
    )
    return episodes


def caseload_sizes(*, team: Organisation) -> list[tuple[str, int]]:
    rows = (
        Episode.objects.filter(team=team, closed_on__isnull=True)
        .values("key_worker__user__first_name", "key_worker__user__last_name")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    return [(f"{r['key_worker__user__first_name']} {r['key_worker__user__last_name']}", r["n"]) for r in rows]


def for_patient(*, by: Membership, patient: Patient) -> list[tuple[Referral, Clock]]:
    """The patient's referrals (open first), for their page; the page load audited the read."""
    require_access(by, patient, Permission.PATIENT_VIEW_DEMOGRAPHICS, what="referrals")
    referrals = (
        Referral.objects.filter(patient=patient)
        .select_related("destination", "named_person__user", "referrer__organisation")
        .order_by("-created_at", "-id")
    )
    return [(r, clock_for(r)) for r in referrals]


def care_team(*, by: Membership, patient: Patient) -> list[dict]:
    """Who is involved: open episodes (team and key worker), open referrals and care-team entries."""
    require_access(by, patient, Permission.PATIENT_VIEW_DEMOGRAPHICS, what="care_team")
    people = [
        {
            "organisation": e.team.name,
            "role": "Episode of care",
            "person": e.key_worker.user.get_full_name(),
            "since": e.opened_on,
        }
        for e in Episode.objects.filter(patient=patient, closed_on__isnull=True).select_related(
            "team", "key_worker__user"
        )
    ]
    people += [
        {
            "organisation": r.destination.name,
            "role": f"Referral ({Status(r.status).label.lower()})",
            "person": r.named_person.user.get_full_name() if r.named_person else "",
            "since": r.received_on,
        }
        for r in Referral.objects.filter(patient=patient, status__in=[Status.RECEIVED, Status.TRIAGED]).select_related(
            "destination", "named_person__user"
        )
    ]
    people += [
        {"organisation": c.organisation.name, "role": c.role_in_care or "Care team", "person": "", "since": c.start}
        for c in patient.care_team.filter(Q(end__isnull=True) | Q(end__gte=clock.today())).select_related(
            "organisation"
        )
    ]
    return people


def get_referral(*, by: Membership, patient: Patient, referral_id: int) -> Referral:
    referral = (
        Referral.objects.filter(pk=referral_id, patient=patient)
        .select_related("destination", "referrer__organisation", "named_person__user", "redirected_from__destination")
        .first()
    )
    if referral is None:
        raise Http404("No referral found")
    return referral


def referral_destinations() -> list[Organisation]:
    return list(
        Organisation.objects.filter(
            kind__in=[OrganisationKind.MH_TEAM, OrganisationKind.LOCAL_AUTHORITY, OrganisationKind.VCSE]
        ).order_by("kind", "name")
    )


def team_members(team: Organisation) -> list[Membership]:
    return list(team.memberships.filter(is_active=True).select_related("user").order_by("user__last_name"))


def _audit_list(by: Membership, what: str, referrals: list[Referral]) -> None:
    audit.record(
        by=by,
        action=AuditAction.VIEW,
        what=what,
        detail={"referral_ids": [r.pk for r in referrals], "patient_ids": [r.patient_id for r in referrals]},
    )


@dataclass(frozen=True)
class PathwayPerformance:
    label: str
    standard: str
    target_days: int
    target_percent: int
    stopped: int
    within: int

    @property
    def percent(self) -> float | None:
        return None if not self.stopped else round(100 * self.within / self.stopped, 1)

    @property
    def meets(self) -> bool | None:
        return None if self.percent is None or not self.target_percent else self.percent >= self.target_percent


def performance(*, by: Membership, since: dt.date | None = None) -> list[PathwayPerformance]:
    """Per pathway: of the clocks that stopped (milestone reached) in the last 12 months for the
    member's teams, how many within the standard (EIP: 2 weeks for at least 60%)."""
    since = since or clock.months_before(clock.today(), 12)
    rows: dict[str, list[int]] = {}
    for r in _managed(by).filter(received_on__gt=since).exclude(redirected_to__isnull=False):
        c = clock_for(r)
        # Stopped clocks, and clocks still running past the standard (already a breach): leaving
        # out the people still waiting would flatter the service.
        if not c.running or (r.is_open and c.breached):
            counts = rows.setdefault(r.pathway, [0, 0])
            counts[0] += 1
            counts[1] += 0 if c.breached else 1
    table = standards.load()
    return [
        PathwayPerformance(table[k].label, table[k].standard, table[k].target_days, table[k].target_percent, n, ok)
        for k, (n, ok) in sorted(rows.items())
    ]


def two_or_more_contacts(*, team: Organisation, since: dt.date | None = None) -> tuple[int, int]:
    """People with an episode with the team, and of them how many had 2+ attended contacts in the
    last 12 months (the community mental health access measure), counted by the database."""
    since = since or clock.months_before(clock.today(), 12)
    people = (
        Episode.objects.filter(team=team, opened_on__lte=clock.today())
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=since))  # open at some point in the window
        .values("patient_id")
        .annotate(attended=Count("contacts", filter=Q(contacts__outcome="attended", contacts__date__gt=since)))
    )
    total = people.count()
    return total, people.filter(attended__gte=2).count()


def may_read_clinical_detail(by: Membership, referral: Referral) -> bool:
    """The reason, hand-over note and history are clinical: for those who see the clinical record,
    and for the organisations the referral is between."""
    if has_permission(by, Permission.PATIENT_VIEW_CLINICAL):
        return True
    if not (has_permission(by, Permission.REFERRAL_MAKE) or has_permission(by, Permission.REFERRAL_MANAGE)):
        return False
    involved = {referral.destination_id, referral.referrer.organisation_id if referral.referrer else None}
    return by.organisation_id in involved
