"""The access rules as a table: who sees which patient, and why."""

import datetime as dt

import pytest

from concerto.access.actions import add_to_care_team, record_consent
from concerto.access.permissions import Permission
from concerto.access.policy import can_access_patient, visible_patients
from concerto.access.roles import ROLES, Scope
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
        start=dt.date.today() + dt.timedelta(days=7),
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
def test_council_and_vcse_need_the_patients_consent_as_well_as_a_relationship(
    universe, member, organisation, kind
):
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
    gp = universe.m("gp_n1")
    gp.is_active = False
    assert not visible_patients(gp, VIEW).exists()


def test_every_role_is_described_and_scoped():
    for role in ROLES.values():
        assert len(role.description) > 40, role.key
        assert role.organisation_kinds, role.key
        patient_level = any(p.is_patient_level for p in role.permissions)
        assert (role.scope == Scope.NONE) is not patient_level, role.key
