"""The access rules as a table: who sees which patient, and why."""

import datetime as dt

import pytest

from concerto.access.actions import add_to_care_team, record_consent
from concerto.access.models import Membership
from concerto.access.permissions import Permission
from concerto.access.policy import can_access_patient, visible_patients
from concerto.access.roles import ROLES, Scope
from concerto.core import clock
from concerto.organisations.models import OrganisationKind as K

VIEW = Permission.PATIENT_VIEW_DEMOGRAPHICS

# (membership, patient, visible?) with no care-team entries or consent decisions recorded.
BASELINE = [
    ("gp_n1", "alice", True),  # registered at own practice
    ("gp_n1", "bob", False),  # same PCN, other practice
    ("gp_n1", "carol", False),  # other PCN
    ("nurse_n1", "alice", True),
    ("admin_n1", "alice", True),
    ("admin_n1", "bob", False),
    ("gp_s1", "carol", True),
    ("gp_s1", "alice", False),
    ("mhp_north", "alice", True),  # PCN scope
    ("mhp_north", "bob", True),
    ("mhp_north", "carol", False),
    ("linkworker_north", "bob", True),
    ("linkworker_north", "carol", False),
    ("keyworker_cmht", "alice", False),  # relationship roles see nobody without a relationship
    ("clinician_cmht", "alice", False),
    ("manager_cmht", "alice", False),
    ("clinician_eip", "alice", False),
    ("socialworker", "alice", False),
    ("vcse_worker", "alice", False),
    ("analyst", "alice", False),  # aggregates only
    ("sysadmin", "alice", False),  # reference data only
]


@pytest.mark.parametrize(("member", "patient", "visible"), BASELINE)
def test_baseline_visibility(universe, member, patient, visible):
    assert can_access_patient(universe.m(member), getattr(universe, patient), VIEW) is visible


def test_care_team_entry_gives_the_team_a_relationship(universe):
    alice = universe.alice
    add_to_care_team(patient=alice, organisation=universe.cmht, by=universe.m("gp_n1"))
    for member in ("keyworker_cmht", "clinician_cmht", "manager_cmht"):
        assert can_access_patient(universe.m(member), alice, Permission.PATIENT_VIEW_CLINICAL)
    assert not can_access_patient(universe.m("clinician_eip"), alice, VIEW)  # other team
    assert not can_access_patient(universe.m("keyworker_cmht"), universe.bob, VIEW)


def test_care_team_entry_starting_in_the_future_gives_no_relationship_yet(universe):
    add_to_care_team(
        patient=universe.alice,
        organisation=universe.cmht,
        start=clock.today() + dt.timedelta(days=7),
        by=universe.m("gp_n1"),
    )
    assert not can_access_patient(universe.m("clinician_cmht"), universe.alice, VIEW)


@pytest.mark.parametrize(
    ("member", "organisation", "kind"),
    [
        ("socialworker", "council", K.LOCAL_AUTHORITY),
        ("vcse_worker", "vcse", K.VCSE),
    ],
)
def test_council_and_vcse_need_the_patients_consent_as_well_as_a_relationship(universe, member, organisation, kind):
    alice, gp = universe.alice, universe.m("gp_n1")
    add_to_care_team(patient=alice, organisation=getattr(universe, organisation), by=gp)
    assert not can_access_patient(universe.m(member), alice, VIEW), "no consent recorded yet"
    record_consent(patient=alice, organisation_kind=kind, granted=True, by=gp)
    assert can_access_patient(universe.m(member), alice, VIEW)
    record_consent(patient=alice, organisation_kind=kind, granted=False, by=gp)
    assert not can_access_patient(universe.m(member), alice, VIEW), "consent withdrawn"


def test_nhs_teams_share_unless_the_patient_dissents(universe):
    alice, gp = universe.alice, universe.m("gp_n1")
    add_to_care_team(patient=alice, organisation=universe.cmht, by=gp)
    record_consent(patient=alice, organisation_kind=K.MH_TEAM, granted=False, by=gp)
    assert not can_access_patient(universe.m("clinician_cmht"), alice, VIEW)
    assert can_access_patient(gp, alice, VIEW), "dissent for MH teams does not affect the practice"


def test_permission_is_needed_as_well_as_a_relationship(universe):
    admin = universe.m("admin_n1")
    assert can_access_patient(admin, universe.alice, VIEW)
    assert not can_access_patient(admin, universe.alice, Permission.PATIENT_VIEW_CLINICAL)
    assert not visible_patients(admin, Permission.AGGREGATES_VIEW).exists()


def test_an_inactive_membership_sees_nobody(universe):
    Membership.objects.filter(pk=universe.m("gp_n1").pk).update(is_active=False)
    gp = Membership.objects.get(pk=universe.m("gp_n1").pk)
    assert not visible_patients(gp, VIEW).exists()


def test_a_dissent_from_mental_health_teams_covers_the_trust_too(universe):
    from concerto.access.actions import add_membership

    alice, gp = universe.alice, universe.m("gp_n1")
    at_trust = add_membership(
        user=universe.m("clinician_cmht").user, organisation=universe.trust, role="cmh_clinician", by=None
    )
    add_to_care_team(patient=alice, organisation=universe.trust, by=gp)
    assert can_access_patient(at_trust, alice, VIEW)
    record_consent(patient=alice, organisation_kind=K.MH_TEAM, granted=False, by=gp)
    assert not can_access_patient(at_trust, alice, VIEW)


def test_the_practice_keeps_seeing_a_patient_who_died_on_its_list(universe):
    from concerto.people.models import Patient, Registration

    died = dt.date(2026, 3, 1)
    Patient.objects.filter(pk=universe.alice.pk).update(date_of_death=died)
    Registration.objects.filter(patient=universe.alice).update(end=died)
    assert can_access_patient(universe.m("gp_n1"), universe.alice, VIEW)
    # A registration that ended for another reason (moved away) gives no access.
    Registration.objects.filter(patient=universe.bob).update(end=dt.date(2025, 1, 1))
    assert not can_access_patient(universe.m("gp_n2"), universe.bob, VIEW)


def test_a_refused_write_is_audited_as_denied(universe):
    from concerto.access.models import AuditAction, AuditEvent
    from concerto.core.errors import NotPermitted

    with pytest.raises(NotPermitted):
        add_to_care_team(patient=universe.carol, organisation=universe.cmht, by=universe.m("gp_n1"))
    denied = AuditEvent.objects.latest("id")
    assert (denied.action, denied.what, denied.patient_id) == (
        AuditAction.DENIED,
        "care_team_entry",
        universe.carol.pk,
    )


def test_every_role_is_described_and_scoped():
    for role in ROLES.values():
        assert len(role.description) > 40, role.key
        assert role.organisation_kinds, role.key
        patient_level = any(p.is_patient_level for p in role.permissions)
        assert (role.scope == Scope.NONE) is not patient_level, role.key
