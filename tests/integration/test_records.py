import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from concerto.access.models import AuditAction, AuditEvent
from concerto.core import clock
from concerto.core.actions import load_codelists
from concerto.core.errors import InvalidInput, NotPermitted
from concerto.records.actions import record_clinical_event, record_medication_issue
from tests.fixtures import client_as

BMI = "60621009"  # Body mass index (observable entity)
OLANZAPINE_10MG = "321614001"


def test_recorded_events_show_on_the_summary_with_readable_terms(universe):
    load_codelists()
    nurse = universe.m("nurse_n1")
    record_clinical_event(
        patient=universe.alice,
        code=BMI,
        date=dt.date(2026, 1, 5),
        value=Decimal("31.4"),
        unit="kg/m2",
        by=nurse,
    )
    record_medication_issue(patient=universe.alice, code=OLANZAPINE_10MG, date=dt.date(2026, 1, 6), by=nurse)
    page = client_as(universe.m("gp_n1")).get(reverse("patient-summary", args=[universe.alice.public_id]))
    text = page.content.decode()
    assert "Body mass index" in text and "(observable entity)" not in text
    assert "31.4 kg/m2" in text and "North One Surgery" in text
    assert "Olanzapine 10mg tablets" in text


def test_recording_is_audited_with_the_actor(universe):
    nurse = universe.m("nurse_n1")
    event = record_clinical_event(
        patient=universe.alice,
        code=BMI,
        date=dt.date(2026, 1, 5),
        value=Decimal("24"),
        unit="kg/m2",
        by=nurse,
    )
    audit = AuditEvent.objects.latest("id")
    assert (audit.action, audit.what, audit.patient_id, audit.membership_id) == (
        AuditAction.CREATE,
        "clinical_event",
        universe.alice.pk,
        nurse.pk,
    )
    assert audit.detail["event_id"] == event.pk
    assert event.source_organisation == universe.practice_n1


@pytest.mark.parametrize(
    ("member", "error"),
    [
        ("gp_s1", NotPermitted),  # no relationship
        ("admin_n1", NotPermitted),  # relationship but no clinical permission
    ],
)
def test_only_clinicians_with_a_relationship_can_record(universe, member, error):
    with pytest.raises(error):
        record_clinical_event(
            patient=universe.alice,
            code=BMI,
            date=dt.date(2026, 1, 5),
            value=Decimal("24"),
            unit="kg/m2",
            by=universe.m(member),
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"date": clock.today() + dt.timedelta(days=1)}, "future"),
        ({"date": dt.date(1970, 1, 1)}, "before the patient's date of birth"),
        ({"code": "BMI"}, "not a SNOMED CT code"),
        ({"value": None}, "A unit needs a value"),
    ],
)
def test_bad_records_are_refused_clearly(universe, kwargs, message):
    args = {"code": BMI, "date": dt.date(2026, 1, 5), "value": Decimal("24"), "unit": "kg/m2"} | kwargs
    with pytest.raises(InvalidInput, match=message):
        record_clinical_event(patient=universe.alice, by=universe.m("nurse_n1"), **args)
