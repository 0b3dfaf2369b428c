"""Recording a check, invitations (single and bulk, console and GOV.UK Notify), and the pages."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from concerto.access.models import AuditAction, AuditEvent
from concerto.core.errors import InvalidInput, NotPermitted
from concerto.notifications.console import ConsoleBackend
from concerto.notifications.notify import NotifyBackend
from concerto.people.models import Patient
from concerto.records.models import ClinicalEvent
from concerto.register import actions, selectors
from concerto.register.models import Invitation, InvitationStatus
from tests.fixtures import client_as
from tests.integration.test_register import SCHIZOPHRENIA

TODAY = dt.date.today


@pytest.fixture
def smi(universe, make):
    """Three people on practice N1's register, one with no mobile number."""
    people = [make((SCHIZOPHRENIA, dt.date(2020, 1, 1))) for _ in range(3)]
    Patient.objects.filter(pk__in=[p.pk for p in people[:2]]).update(
        mobile_phone="07700 900123", address="1 Park Road\nLeeds\nLS1 4AP"
    )
    return [Patient.objects.get(pk=p.pk) for p in people]


def test_record_a_check_writes_coded_events_and_works_out_bmi(universe, smi):
    nurse, patient = universe.m("nurse_n1"), smi[0]
    events = actions.record_health_check(
        patient=patient,
        date=dt.date(2026, 10, 1),
        by=nurse,
        smoking="never",
        values={
            "weight": Decimal("80"),
            "height": Decimal("175"),
            "systolic": Decimal("128"),
            "diastolic": Decimal("82"),
            "total_cholesterol": Decimal("4.9"),
            "hba1c": Decimal("39"),
            "alcohol_units_week": Decimal("6"),
        },
    )
    codes = {e.code: e.value for e in events}
    assert codes["60621009"] == Decimal("26.1")  # BMI = 80 / 1.75²
    assert codes["27113001"] == Decimal("80") and codes["266919005"] is None
    assert len(events) == 9  # weight, height, BMI, two pressures, cholesterol, HbA1c, alcohol, smoking


@pytest.mark.parametrize(
    ("values", "smoking", "message"),
    [
        ({"bmi": Decimal("5")}, None, "BMI must be between 10 and 90"),
        ({"systolic": Decimal("120")}, None, "Enter both systolic and diastolic"),
        ({"systolic": Decimal("80"), "diastolic": Decimal("90")}, None, "must be higher than diastolic"),
        ({}, None, "Enter at least one measurement"),
        ({}, "sometimes", "current, ex or never"),
    ],
)
def test_implausible_checks_are_refused_and_nothing_is_written(universe, smi, values, smoking, message):
    before = ClinicalEvent.objects.count()
    with pytest.raises(InvalidInput, match=message):
        actions.record_health_check(
            patient=smi[0], date=dt.date(2026, 10, 1), values=values, smoking=smoking, by=universe.m("nurse_n1")
        )
    assert ClinicalEvent.objects.count() == before


def test_a_check_cannot_be_recorded_without_a_relationship(universe, smi):
    with pytest.raises(NotPermitted):
        actions.record_health_check(
            patient=smi[0], date=dt.date(2026, 10, 1), values={"bmi": Decimal(25)}, by=universe.m("gp_s1")
        )
    assert AuditEvent.objects.latest("id").action == AuditAction.DENIED


def test_invite_by_sms_sends_through_the_backend_and_codes_the_invitation(universe, smi):
    backend = ConsoleBackend(stream=io.StringIO())
    invitation = actions.invite(patient=smi[0], channel="sms", by=universe.m("nurse_n1"), backend=backend)
    assert invitation.status == InvitationStatus.SENT and invitation.sent_on == TODAY()
    (message,) = backend.outbox
    assert message.to == "07700 900123" and message.personalisation["practice"] == "North One Surgery"
    assert ClinicalEvent.objects.filter(patient=smi[0], code="1084191000000101").exists()
    # The reference sent to the outside service never carries patient data.
    assert smi[0].nhs_number not in message.reference and "Test" not in message.reference


def test_an_invitation_that_cannot_be_sent_is_kept_as_failed(universe, smi):
    invitation = actions.invite(
        patient=smi[2], channel="sms", by=universe.m("nurse_n1"), backend=ConsoleBackend(stream=io.StringIO())
    )
    assert invitation.status == InvitationStatus.FAILED and invitation.error == "No mobile number recorded."
    assert not ClinicalEvent.objects.filter(patient=smi[2], code="1084191000000101").exists()


def test_letters_count_first_second_third(universe, smi):
    backend = ConsoleBackend(stream=io.StringIO())
    for _ in range(4):
        actions.invite(patient=smi[0], channel="letter", by=universe.m("nurse_n1"), backend=backend)
    codes = list(
        ClinicalEvent.objects.filter(patient=smi[0], code__in=actions.LETTER_CODES)
        .order_by("id")
        .values_list("code", flat=True)
    )
    assert codes == ["414668005", "414670001", "414671002", "414671002"]


def test_bulk_invitations_are_queued_then_sent_in_chunks_with_progress(universe, smi):
    nurse = universe.m("nurse_n1")
    backend = ConsoleBackend(stream=io.StringIO())
    batch = actions.start_invitation_batch(patient_ids=[p.pk for p in smi], channel="sms", by=nurse)
    assert actions.batch_progress(batch).done == 0
    first = actions.continue_invitation_batch(batch=batch, by=nurse, chunk=2, backend=backend)
    assert (first.done, first.total, first.finished) == (2, 3, False)
    last = actions.continue_invitation_batch(batch=batch, by=nurse, chunk=2, backend=backend)
    assert (last.sent, last.failed, last.finished, last.percent) == (2, 1, True, 100)
    again = actions.continue_invitation_batch(batch=batch, by=nurse, backend=backend)
    assert again == last and len(backend.outbox) == 2  # nobody is sent twice


def test_bulk_invitations_refuse_people_the_member_cannot_see(universe, smi, make):
    other = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), practice="s1")
    with pytest.raises(InvalidInput, match="nobody was invited"):
        actions.start_invitation_batch(patient_ids=[smi[0].pk, other.pk], channel="sms", by=universe.m("nurse_n1"))
    assert not Invitation.objects.exists()
    assert AuditEvent.objects.latest("id").action == AuditAction.DENIED


def test_only_the_starter_can_continue_a_batch(universe, smi):
    batch = actions.start_invitation_batch(patient_ids=[smi[0].pk], channel="sms", by=universe.m("nurse_n1"))
    with pytest.raises(InvalidInput):
        actions.continue_invitation_batch(batch=batch, by=universe.m("gp_n1"))


def test_invitations_through_gov_uk_notify(universe, smi, fake_notify):
    """The real Notify client against the verified fake: an SMS is accepted; a letter to an
    address whose postcode Notify rejects is recorded as failed with Notify's reason."""
    templates = {"phc_invitation": fake_notify.add_template("sms", "Hello ((name)), ((practice)) invites you.")}
    backend = NotifyBackend(api_key=fake_notify.api_key, base_url=fake_notify.base_url, templates=templates)
    sent = actions.invite(patient=smi[0], channel="sms", by=universe.m("nurse_n1"), backend=backend)
    assert sent.status == InvitationStatus.SENT and sent.notification_id
    letter_template = fake_notify.add_template("letter", "Dear ((name)), ((practice)) invites you.")
    letters = NotifyBackend(
        api_key=fake_notify.api_key, base_url=fake_notify.base_url, templates={"phc_invitation": letter_template}
    )
    Patient.objects.filter(pk=smi[1].pk).update(address="1 Park Road\nDemotown\nDM1 1AA")
    failed = actions.invite(
        patient=Patient.objects.get(pk=smi[1].pk), channel="letter", by=universe.m("nurse_n1"), backend=letters
    )
    assert failed.status == InvitationStatus.FAILED and "postcode" in failed.error.lower()


# --- pages ------------------------------------------------------------------------------------


def test_register_and_recall_pages_list_the_practice_register(universe, smi):
    nurse = client_as(universe.m("nurse_n1"))
    register = nurse.get(reverse("register:register"))
    assert register.status_code == 200
    assert b'data-testid="register-size">3<' in register.content
    recall = nurse.get(reverse("register:recall"))
    assert recall.content.count(b'nhsuk-tag--red">Never checked') == 3
    audit = AuditEvent.objects.filter(what="recall_worklist").latest("id")
    assert sorted(audit.detail["patient_ids"]) == sorted(p.pk for p in smi)


def test_csv_export_is_scoped_and_audited(universe, smi, make):
    make((SCHIZOPHRENIA, dt.date(2020, 1, 1)), practice="s1")  # not N1's
    response = client_as(universe.m("nurse_n1")).get(reverse("register:recall"), {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv") and response["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert sorted(r["NHS number"] for r in rows) == sorted(p.nhs_number for p in smi)
    audit = AuditEvent.objects.latest("id")
    assert audit.what == "recall_export" and sorted(audit.detail["patient_ids"]) == sorted(p.pk for p in smi)


def test_a_practice_outside_the_members_scope_is_ignored(universe, smi):
    response = client_as(universe.m("nurse_n1")).get(
        reverse("register:register"), {"practice": universe.practice_s1.pk}
    )
    assert response.status_code == 200  # an unknown choice is ignored by the form: own practices only
    assert b'data-testid="register-size">3<' in response.content


def test_pcn_staff_see_every_practice_in_the_pcn(universe, make):
    a = make((SCHIZOPHRENIA, dt.date(2020, 1, 1)))
    rows = selectors.worklist(
        by=universe.m("mhp_north"),
        on=TODAY(),
        practice_ids=[p.pk for p in selectors.practices_in_scope(universe.m("mhp_north"))],
    )
    assert [r["id"] for r in rows] == [a.pk]


def test_recording_a_check_through_the_form(universe, smi):
    nurse = client_as(universe.m("nurse_n1"))
    url = reverse("register:record-check", args=[smi[0].public_id])
    bad = nurse.post(url, {"date": TODAY().isoformat(), "systolic": "300", "diastolic": "80"})
    assert b"Systolic blood pressure must be between 60 and 260" in bad.content
    good = nurse.post(
        url,
        {
            "date": TODAY().isoformat(),
            "bmi": "24",
            "systolic": "120",
            "diastolic": "80",
            "total_cholesterol": "4",
            "hba1c": "38",
            "alcohol_units_week": "2",
            "smoking": "never",
        },
    )
    assert good.status_code == 302
    page = nurse.get(good.url)
    assert b"All six elements recorded in the last 12 months" in page.content
    assert b"Complete" in page.content
    # Values read back from the database display plainly (not "1.2E+2"), in the panel and the events.
    panel = page.content.decode().split('data-testid="physical-health"')[1].split("</section>")[0]
    assert "24 kg/m2" in panel and "120 mmHg" in panel and "E+" not in page.content.decode()


def test_roles_without_the_clinical_record_cannot_open_the_register(universe):
    assert client_as(universe.m("admin_n1")).get(reverse("register:register")).status_code == 403
    assert client_as(universe.m("analyst")).get(reverse("register:recall")).status_code == 403


def test_bulk_invite_page_flow(universe, smi):
    nurse = client_as(universe.m("nurse_n1"))
    response = nurse.post(reverse("register:bulk-invite"), {"channel": "sms", "patients": [smi[0].pk, smi[1].pk]})
    assert response.status_code == 302
    page = nurse.get(response.url)
    assert b"0 sent" in page.content and b'hx-post="' in page.content
    step = nurse.post(
        reverse("register:batch-continue", args=[response.url.rstrip("/").split("/")[-1]]), HTTP_HX_REQUEST="true"
    )
    assert b"Finished." in step.content and b"2 sent" in step.content
    assert b"hx-post" not in step.content  # finished: htmx stops asking


def test_declined_elements_are_recorded_and_leave_the_qof_denominator(universe, smi):
    nurse = client_as(universe.m("nurse_n1"))
    url = reverse("register:record-check", args=[smi[0].public_id])
    response = nurse.post(url, {"date": TODAY().isoformat(), "declined": ["blood_pressure", "lipids"]})
    assert response.status_code == 302
    assert ClinicalEvent.objects.filter(patient=smi[0], code="413123006").exists()  # BP declined (BPDEC_COD)
    check = selectors.patient_check(by=universe.m("nurse_n1"), patient=smi[0])
    declined = {e.key: e.declined for e in check.elements}
    assert declined["blood_pressure"] == TODAY() and declined["lipids"] == TODAY() and declined["bmi"] is None
    summary = selectors.indicator_summary(by=universe.m("nurse_n1"), on=TODAY(), practice_ids=[universe.practice_n1.pk])
    mh003 = next(q for q in summary["qof"] if q["id"] == "MH003")
    assert mh003["den"] == 2  # three on the register, one declined blood pressure


def test_a_batch_rechecks_access_when_sending(universe, smi):
    from concerto.people.models import Registration

    nurse = universe.m("nurse_n1")
    backend = ConsoleBackend(stream=io.StringIO())
    batch = actions.start_invitation_batch(patient_ids=[smi[0].pk, smi[1].pk], channel="sms", by=nurse)
    Registration.objects.filter(patient=smi[0]).update(end=TODAY() - dt.timedelta(days=1))  # moved away
    progress = actions.continue_invitation_batch(batch=batch, by=nurse, backend=backend)
    assert (progress.sent, progress.failed, progress.finished) == (1, 1, True)
    assert [m.to for m in backend.outbox] == ["07700 900123"]  # only the one still registered
    failed = Invitation.objects.get(batch=batch, patient=smi[0])
    assert "no longer have access" in failed.error
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, what="phc_invitation", patient_id=smi[0].pk).exists()


class ExplodingBackend:
    def __init__(self):
        self.calls = 0

    def send(self, message):
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("the outside service fell over")
        return ConsoleBackend(stream=io.StringIO()).send(message)


def test_an_unexpected_sending_error_fails_one_and_the_batch_goes_on(universe, smi):
    nurse = universe.m("nurse_n1")
    batch = actions.start_invitation_batch(patient_ids=[smi[0].pk, smi[1].pk], channel="sms", by=nurse)
    progress = actions.continue_invitation_batch(batch=batch, by=nurse, backend=ExplodingBackend())
    assert (progress.sent, progress.failed, progress.finished) == (1, 1, True)
    assert Invitation.objects.filter(batch=batch, error__startswith="Sending failed unexpectedly").count() == 1


@pytest.mark.parametrize(("weight", "height"), [("20", "250"), ("350", "100")])
def test_a_bmi_worked_out_from_weight_and_height_is_range_checked(universe, smi, weight, height):
    with pytest.raises(InvalidInput, match="outside 10 to 90"):
        actions.record_health_check(
            patient=smi[0],
            date=dt.date(2026, 10, 1),
            values={"weight": Decimal(weight), "height": Decimal(height)},
            by=universe.m("nurse_n1"),
        )


def test_csv_cells_cannot_become_spreadsheet_formulas():
    from concerto.core.spreadsheet import formula_safe as _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _cell("-1") == "'-1" and _cell("Smith") == "Smith"
    assert _cell(None) == ""
