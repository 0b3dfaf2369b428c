"""The fixture universe: a small ICB built through the real actions, never by writing models.

Two PCNs (north: practices N1, N2; south: practice S1), a mental health trust with a CMHT aligned
to the north PCN and an EIP team, a council and a VCSE partner; one member of staff per role; and
patients registered at each practice.
"""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.test import Client

from concerto.access.actions import add_membership
from concerto.access.middleware import SESSION_KEY
from concerto.access.models import Membership
from concerto.core.nhs_number import synthetic_from_serial
from concerto.organisations.actions import create_organisation
from concerto.organisations.models import OrganisationKind as K
from concerto.people.actions import create_staff_user, register_patient
from concerto.records.actions import record_clinical_event, record_medication_issue

PASSWORD = "a-long-test-password"


def nhs_number(serial: int) -> str:
    """The first valid 999-range NHS number at or after `serial`."""
    while (number := synthetic_from_serial(serial)) is None:
        serial += 1
    return number


class Universe:
    def __init__(self):
        org = create_organisation
        self.icb = org(code="QT1", name="Test ICB", kind=K.ICB)
        self.pcn_north = org(code="U00001", name="North PCN", kind=K.PCN, parent=self.icb)
        self.pcn_south = org(code="U00002", name="South PCN", kind=K.PCN, parent=self.icb)
        self.practice_n1 = org(code="T00011", name="North One Surgery", kind=K.GP_PRACTICE, parent=self.pcn_north)
        self.practice_n2 = org(code="T00012", name="North Two Surgery", kind=K.GP_PRACTICE, parent=self.pcn_north)
        self.practice_s1 = org(code="T00021", name="South One Surgery", kind=K.GP_PRACTICE, parent=self.pcn_south)
        self.trust = org(code="RT1", name="Test MH Trust", kind=K.MH_TRUST, parent=self.icb)
        self.cmht = org(
            code="RT1C1",
            name="North CMHT",
            kind=K.MH_TEAM,
            team_type="cmht",
            parent=self.trust,
            aligned_pcn=self.pcn_north,
        )
        self.eip = org(code="RT1E1", name="EIP Team", kind=K.MH_TEAM, team_type="eip", parent=self.trust)
        self.council = org(code="LAT1", name="Test Council", kind=K.LOCAL_AUTHORITY, parent=self.icb)
        self.vcse = org(code="VT1", name="Test Music Charity", kind=K.VCSE, parent=self.icb)

        self.memberships: dict[str, Membership] = {}
        for name, role, where in [
            ("gp_n1", "gp", self.practice_n1),
            ("nurse_n1", "practice_nurse", self.practice_n1),
            ("admin_n1", "practice_admin", self.practice_n1),
            ("gp_n2", "gp", self.practice_n2),
            ("admin_n2", "practice_admin", self.practice_n2),
            ("gp_s1", "gp", self.practice_s1),
            ("admin_s1", "practice_admin", self.practice_s1),
            ("mhp_north", "pcn_mh_practitioner", self.pcn_north),
            ("linkworker_north", "link_worker", self.pcn_north),
            ("keyworker_cmht", "key_worker", self.cmht),
            ("clinician_cmht", "cmh_clinician", self.cmht),
            ("manager_cmht", "team_manager", self.cmht),
            ("clinician_eip", "cmh_clinician", self.eip),
            ("socialworker", "la_social_worker", self.council),
            ("vcse_worker", "vcse_worker", self.vcse),
            ("analyst", "icb_analyst", self.icb),
            ("sysadmin", "system_admin", self.icb),
        ]:
            user = create_staff_user(username=name, password=PASSWORD, is_staff=role == "system_admin")
            self.memberships[name] = add_membership(user=user, organisation=where, role=role, by=None)

        def patient(serial, given, family, practice, admin, dob=dt.date(1980, 5, 17)):
            return register_patient(
                nhs_number_text=nhs_number(serial),
                given_name=given,
                family_name=family,
                date_of_birth=dob,
                sex="F",
                practice=practice,
                registered_on=dt.date(2020, 1, 1),
                by=self.memberships[admin],
            )

        self.alice = patient(1000, "Alice", "Ashworth", self.practice_n1, "admin_n1")
        self.bob = patient(2000, "Bob", "Brennan", self.practice_n2, "admin_n2", dob=dt.date(1975, 2, 3))
        self.carol = patient(3000, "Carol", "Chowdhury", self.practice_s1, "admin_s1", dob=dt.date(1990, 11, 30))

    def m(self, name: str) -> Membership:
        return self.memberships[name]


@pytest.fixture
def universe(db) -> Universe:
    return Universe()


def client_as(membership: Membership) -> Client:
    """A test client logged in and acting as `membership`, as after choosing it at log-in."""
    client = Client()
    client.force_login(membership.user)
    session = client.session
    session[SESSION_KEY] = membership.pk
    session.save()
    return client


UNITS = {
    "60621009": "kg/m2",
    "271649006": "mmHg",
    "1091811000000102": "mmHg",
    "1005671000000105": "mmol/L",
    "999791000000106": "mmol/mol",
    "1082641000000106": "U/week",
}

_serials = itertools.count(10_000, 7)  # NHS-number serials for patients made by `make`


@pytest.fixture
def make(universe):
    """Build a patient at practice N1 with the events given: (code, date[, value])."""

    def build(*events, meds=(), practice="n1", registered=dt.date(2010, 1, 1), born=dt.date(1975, 3, 3)):
        practice_org, admin = {"n1": (universe.practice_n1, "admin_n1"), "s1": (universe.practice_s1, "admin_s1")}[
            practice
        ]
        patient = register_patient(
            nhs_number_text=nhs_number(next(_serials)),
            given_name="Test",
            family_name=f"Person{next(_serials)}",
            date_of_birth=born,
            sex="M",
            practice=practice_org,
            registered_on=registered,
            by=universe.m(admin),
        )
        clinician = universe.m("nurse_n1" if practice == "n1" else "gp_s1")
        for code, date, *value in events:
            v = Decimal(str(value[0])) if value else None
            record_clinical_event(
                patient=patient,
                code=code,
                date=date,
                value=v,
                unit=UNITS.get(code, "") if v is not None else "",
                by=clinician,
            )
        for code, date in meds:
            record_medication_issue(patient=patient, code=code, date=date, by=clinician)
        return patient

    return build
