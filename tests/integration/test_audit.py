import pytest
from django.db import DatabaseError, connection, transaction

from concerto.access import audit
from concerto.access.models import AuditAction, AuditEvent


@pytest.fixture
def event(universe):
    return audit.record(by=universe.m("gp_n1"), action=AuditAction.VIEW, what="test", patient=universe.alice)


def test_audit_record_keeps_copies_of_who_as_what_and_whom(universe, event):
    gp = universe.m("gp_n1")
    assert (event.username, event.membership_id, event.organisation_code, event.role) == (
        "gp_n1",
        gp.pk,
        "T00011",
        "gp",
    )
    assert (event.patient_id, event.nhs_number) == (universe.alice.pk, universe.alice.nhs_number)


def test_patient_actor_audit_names_the_patient_and_no_staff_identity(universe):
    event = audit.record_by_patient(patient=universe.alice, action=AuditAction.VIEW, what="portal_plan")
    assert (event.role, event.username, event.user_id, event.membership_id) == ("patient", "patient", None, None)
    assert (event.patient_id, event.nhs_number, event.what) == (
        universe.alice.pk,
        universe.alice.nhs_number,
        "portal_plan",
    )


def test_orm_refuses_to_update_or_delete_audit_events(event):
    event.what = "tampered"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(what="tampered")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE access_auditevent SET what = 'tampered'",
        "DELETE FROM access_auditevent",
    ],
)
def test_database_refuses_to_update_or_delete_audit_events(event, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
        c.execute(sql)
    assert AuditEvent.objects.get(pk=event.pk).what == "test"
