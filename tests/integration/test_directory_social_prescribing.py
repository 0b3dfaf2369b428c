"""Social prescribing: a prescription is a referral to the organisation running a directory
service; accept, hand over (never drop), attendance, wellbeing, and the GP's view of the patient."""

import datetime as dt
import json

import pytest
from django.urls import reverse

from concerto.access.actions import add_membership
from concerto.access.models import AuditEvent
from concerto.access.permissions import Permission
from concerto.access.policy import can_access_patient
from concerto.core.errors import InvalidInput, NotPermitted
from concerto.directory import actions, demo, selectors
from concerto.directory.models import Service, SocialPrescription
from concerto.organisations.actions import create_organisation
from concerto.organisations.models import OrganisationKind as K
from concerto.people.actions import create_staff_user
from concerto.referrals.models import Status
from tests.fixtures import client_as


@pytest.fixture
def sp(universe):
    """The demo directory, with a VCSE worker at each of the demo partners."""
    orgs = {
        code: create_organisation(code=code, name=name, kind=K.VCSE, parent=universe.icb)
        for code, name in [("VCS01", "Demo Mind"), ("VCS02", "Harmony Community Music"), ("VCS03", "Peer Support")]
    }
    actions.import_services(text=json.dumps(demo.document()), by=None)
    workers = {
        code: add_membership(
            user=create_staff_user(username=f"worker-{code}", password="a-long-password"),
            organisation=org,
            role="vcse_worker",
            by=None,
        )
        for code, org in orgs.items()
    }

    class SP:
        singing = Service.objects.get(name="Sing Your Heart Out")
        peer = Service.objects.get(name="Walk and Talk")
        advice = Service.objects.get(name="Benefits and Money Advice")  # not one of our partners
        harmony, peer_worker, mind = workers["VCS02"], workers["VCS03"], workers["VCS01"]
        link = universe.m("linkworker_north")

    return SP


def _prescribe(universe, sp, **kwargs):
    return actions.prescribe(
        patient=universe.alice,
        service=sp.singing,
        reason="Loves singing; lonely since moving.",
        by=sp.link,
        consent_confirmed=True,
        **kwargs,
    )


def test_a_prescription_is_a_referral_to_the_organisation_running_the_service(universe, sp):
    prescription = _prescribe(universe, sp, idempotency_key="k1")
    referral = prescription.referral
    assert referral.destination.code == "VCS02"
    assert referral.pathway == "vcse" and referral.status == Status.RECEIVED
    assert prescription.case is not None and prescription.case.link_worker == sp.link
    # The same form sent twice makes one prescription.
    assert _prescribe(universe, sp, idempotency_key="k1").pk == prescription.pk
    assert SocialPrescription.objects.count() == 1
    # The service now sees the person (the referral is a relationship, with consent recorded).
    assert can_access_patient(sp.harmony, universe.alice, Permission.PATIENT_VIEW_DEMOGRAPHICS)
    assert not can_access_patient(sp.mind, universe.alice, Permission.PATIENT_VIEW_DEMOGRAPHICS)


def test_referring_needs_the_patients_agreement_and_a_partner_that_takes_referrals(universe, sp):
    with pytest.raises(InvalidInput, match="Confirm that the patient agrees"):
        actions.prescribe(patient=universe.alice, service=sp.singing, reason="x", by=sp.link)
    with pytest.raises(InvalidInput, match="does not take referrals through Concerto"):
        actions.prescribe(patient=universe.alice, service=sp.advice, reason="x", by=sp.link, consent_confirmed=True)
    assert SocialPrescription.objects.count() == 0


def test_a_link_worker_outside_the_patients_pcn_is_refused_and_audited(universe, sp):
    with pytest.raises(NotPermitted):
        actions.prescribe(patient=universe.carol, service=sp.singing, reason="x", by=sp.link, consent_confirmed=True)
    assert AuditEvent.objects.filter(action="denied", patient_id=universe.carol.pk).exists()


def test_the_service_accepts_records_attendance_and_the_clock_stops(universe, sp):
    prescription = _prescribe(universe, sp)
    with pytest.raises(InvalidInput, match="Accept the referral before"):
        actions.record_attendance(prescription=prescription, on=dt.date.today(), attended=True, by=sp.harmony)
    actions.accept(prescription=prescription, version=prescription.referral.version, by=sp.harmony)
    prescription.referral.refresh_from_db()
    assert prescription.referral.status == Status.ACCEPTED
    assert prescription.referral.named_person == sp.harmony
    actions.record_attendance(prescription=prescription, on=dt.date.today(), attended=False, by=sp.harmony)
    prescription.referral.refresh_from_db()
    assert prescription.referral.first_contact_on is None  # a missed session is not a first contact
    actions.record_attendance(prescription=prescription, on=dt.date.today(), attended=True, by=sp.harmony)
    prescription.referral.refresh_from_db()
    assert prescription.referral.first_contact_on == dt.date.today()
    # Another organisation cannot record it, nor can the link worker.
    for outsider in (sp.mind, sp.link):
        with pytest.raises(NotPermitted):
            actions.record_attendance(prescription=prescription, on=dt.date.today(), attended=True, by=outsider)


def test_declining_hands_over_to_another_service_and_is_never_a_dead_end(universe, sp):
    prescription = _prescribe(universe, sp)
    onward = actions.decline(
        prescription=prescription,
        version=prescription.referral.version,
        to_service=sp.peer,
        handover_note="Group is full until spring; walking group suits.",
        by=sp.harmony,
    )
    prescription.referral.refresh_from_db()
    assert prescription.referral.status == Status.REDIRECTED
    assert onward.service == sp.peer and onward.referral.destination.code == "VCS03"
    assert onward.referral.clock_start == prescription.referral.clock_start  # the first clock keeps running
    assert onward.case == prescription.case
    assert can_access_patient(sp.peer_worker, universe.alice, Permission.PATIENT_VIEW_DEMOGRAPHICS)
    with pytest.raises(InvalidInput, match="another organisation"):
        actions.decline(
            prescription=onward,
            version=onward.referral.version,
            to_service=Service.objects.get(name="Carers' Café"),  # also Peer Support Network
            handover_note="x",
            by=sp.peer_worker,
        )


def test_wellbeing_scores_are_0_to_10_and_recorded_by_the_link_worker_or_the_service(universe, sp):
    prescription = _prescribe(universe, sp)
    scores = {"life_satisfaction": 4, "worthwhile": 5, "happiness": 3, "anxiety": 8}
    actions.record_wellbeing(prescription=prescription, on=dt.date.today(), by=sp.link, **scores)
    actions.accept(prescription=prescription, version=prescription.referral.version, by=sp.harmony)
    actions.record_wellbeing(prescription=prescription, on=dt.date.today(), by=sp.harmony, **scores | {"anxiety": 5})
    assert prescription.latest_wellbeing.anxiety == 5
    with pytest.raises(InvalidInput, match="0 to 10"):
        actions.record_wellbeing(
            prescription=prescription, on=dt.date.today(), by=sp.link, **scores | {"happiness": 11}
        )
    with pytest.raises(NotPermitted):
        actions.record_wellbeing(prescription=prescription, on=dt.date.today(), by=sp.mind, **scores)


def test_what_matters_notes_are_for_the_link_worker_and_clinicians_only(universe, sp):
    actions.add_what_matters(patient=universe.alice, text="Getting back to singing.", by=sp.link)
    _prescribe(universe, sp)
    assert [n.text for n in selectors.what_matters(by=sp.link, patient=universe.alice)] == ["Getting back to singing."]
    assert len(selectors.what_matters(by=universe.m("gp_n1"), patient=universe.alice)) == 1
    assert selectors.what_matters(by=sp.harmony, patient=universe.alice) == []
    cases = selectors.caseload(by=sp.link)
    assert [c.patient for c in cases] == [universe.alice]
    assert [p.service.name for p in cases[0].prescriptions.all()] == ["Sing Your Heart Out"]
    with pytest.raises(NotPermitted):
        actions.add_what_matters(patient=universe.alice, text="x", by=universe.m("gp_n1"))  # not a link worker


def test_the_gp_sees_the_prescription_and_attendance_on_the_patient_page(universe, sp):
    prescription = _prescribe(universe, sp)
    actions.accept(prescription=prescription, version=prescription.referral.version, by=sp.harmony)
    actions.record_attendance(prescription=prescription, on=dt.date.today(), attended=True, by=sp.harmony)
    page = client_as(universe.m("gp_n1")).get(reverse("patient-summary", args=[universe.alice.public_id]))
    assert page.status_code == 200
    section = page.content.decode()
    assert "Sing Your Heart Out" in section
    assert f"attended {dt.date.today():%-d %b %Y}" in section


def test_pages_answer_for_each_role_and_hide_patients_without_a_relationship(universe, sp):
    prescription = _prescribe(universe, sp)
    link = client_as(sp.link)
    assert link.get(reverse("directory:search"), {"q": "music"}).status_code == 200
    near = link.get(reverse("directory:patient-search", args=[universe.alice.public_id]), {"needs": ["music"]})
    assert near.status_code == 200 and "Sing Your Heart Out" in near.content.decode()
    assert link.get(reverse("directory:patient", args=[universe.alice.public_id])).status_code == 200
    assert link.get(reverse("directory:caseload")).status_code == 200
    # Carol is in the south PCN: the page answers as if she did not exist.
    assert link.get(reverse("directory:patient", args=[universe.carol.public_id])).status_code == 404
    harmony = client_as(sp.harmony)
    incoming = harmony.get(reverse("directory:incoming"))
    assert incoming.status_code == 200 and "Ashworth".upper() in incoming.content.decode()
    accept = harmony.post(
        reverse("directory:act", args=[universe.alice.public_id, prescription.pk, "accept"]),
        {"version": prescription.referral.version, "next": "incoming"},
    )
    assert accept.status_code == 302 and accept["Location"] == reverse("directory:incoming")
    prescription.referral.refresh_from_db()
    assert prescription.referral.status == Status.ACCEPTED
    # The Mind worker has no relationship with Alice: the same request is a 404.
    assert (
        client_as(sp.mind)
        .post(reverse("directory:act", args=[universe.alice.public_id, prescription.pk, "attendance"]), {})
        .status_code
        == 404
    )
    assert harmony.get(reverse("directory:mine")).status_code == 200
    assert link.get(reverse("directory:mine")).status_code == 403
    export = link.get(reverse("directory:export"))
    assert json.loads(export.content)["total_items"] == len(demo.SERVICES)
    assert link.get(reverse("directory:programmes")).status_code == 200


def test_vcse_staff_edit_their_own_services_through_the_form(universe, sp):
    harmony = client_as(sp.harmony)
    response = harmony.post(
        reverse("directory:edit", args=[sp.singing.oruk_id]),
        {
            "name": "Sing Your Heart Out",
            "description": "Drop-in singing.",
            "status": "active",
            "terms": [t.pk for t in sp.singing.terms.all()],
            "postcode": "DM2 1AA",
            "openings": "Tuesday 14:00-16:00\nThu 10:00-11:00",
            "cost": "0",
        },
    )
    assert response.status_code == 302
    sp.singing.refresh_from_db()
    assert sp.singing.description == "Drop-in singing."
    assert [s.weekday for s in sp.singing.schedules.all()] == [1, 3]
    assert sp.singing.locations.get().postcode == "DM2 1AA"
    # Searching sees the change (the full-text index follows the edit).
    assert selectors.search(selectors.Criteria(text="drop-in"))[0].service == sp.singing
    other = harmony.post(reverse("directory:edit", args=[sp.peer.oruk_id]), {"name": "x"})
    assert other.status_code == 404


def test_a_vcse_import_through_the_page_reports_problems_and_writes_nothing(universe, sp):
    from django.core.files.uploadedfile import SimpleUploadedFile

    doc = demo.document()
    theirs = [s for s in doc["contents"] if s["organization"]["name"] == "Demo Mind"][:1]
    upload = SimpleUploadedFile("d.json", json.dumps(theirs).encode(), content_type="application/json")
    response = client_as(sp.harmony).post(reverse("directory:import"), {"file": upload})
    assert response.status_code == 400
    assert "only change your own organisation" in response.content.decode()


def test_the_link_worker_closes_a_case_and_it_leaves_the_caseload(universe, sp):
    _prescribe(universe, sp)
    link = client_as(sp.link)
    page = reverse("directory:patient", args=[universe.alice.public_id])
    assert "Close the case" in link.get(page).content.decode()
    assert link.post(page, {"form": "close"}).status_code == 302
    assert selectors.caseload(by=sp.link) == []
    assert selectors.open_case(by=sp.link, patient=universe.alice) is None
    # The person stays connected: closing the case never closes their referral.
    assert SocialPrescription.objects.get().referral.status == Status.RECEIVED


def test_vcse_staff_verify_entries_and_send_programme_returns_from_their_page(universe, sp):
    harmony = client_as(sp.harmony)
    page = reverse("directory:mine")
    drumming = Service.objects.get(name="Drumming for Wellbeing")
    assert harmony.post(page, {"form": "verify", "service": drumming.pk}).status_code == 302
    drumming.refresh_from_db()
    assert drumming.last_verified == dt.date.today()
    schools = Service.objects.get(name="Music in Schools")
    month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).isoformat()
    harmony.post(page, {"form": "activity", "service": schools.pk, "month": month, "sessions": 9, "participants": 60})
    assert schools.activity.get().participants == 60
    # Another organisation's service is not found from this page.
    walk = Service.objects.get(name="Walk and Talk")
    assert harmony.post(page, {"form": "verify", "service": walk.pk}).status_code == 404


def test_the_service_cannot_drop_a_prescription_and_a_redirect_from_the_referrals_pages_shows_where_they_went(
    universe, sp
):
    from concerto.referrals import actions as referrals

    prescription = _prescribe(universe, sp)
    referral = prescription.referral
    with pytest.raises(NotPermitted, match="hand the person over"):
        referrals.withdraw(referral=referral, version=referral.version, reason="Group full", by=sp.harmony)
    # Handed over from the referrals pages (not the directory's hand-over): the person's social
    # prescribing page, the caseload and the GP's view say where they went.
    onward = referrals.redirect(
        referral=referral,
        version=referral.version,
        destination=sp.peer_worker.organisation,
        handover_note="The walking group suits better.",
        consent_confirmed=True,
        by=sp.harmony,
    )
    handed_over = f"handed over to {onward.destination.name}"
    link = client_as(sp.link)
    assert handed_over in link.get(reverse("directory:patient", args=[universe.alice.public_id])).content.decode()
    assert handed_over in link.get(reverse("directory:caseload")).content.decode()
    gp_page = client_as(universe.m("gp_n1")).get(reverse("patient-summary", args=[universe.alice.public_id]))
    assert handed_over in gp_page.content.decode()


def test_wellbeing_scores_must_be_whole_numbers_dated_within_an_open_or_completed_prescription(universe, sp):
    prescription = _prescribe(universe, sp)
    scores = {"life_satisfaction": 4, "worthwhile": 5, "happiness": 3, "anxiety": 8}
    for bad in (True, 5.5, "7"):
        with pytest.raises(InvalidInput, match="whole number"):
            actions.record_wellbeing(
                prescription=prescription, on=dt.date.today(), by=sp.link, **scores | {"worthwhile": bad}
            )
    before = prescription.referral.received_on - dt.timedelta(days=1)
    with pytest.raises(InvalidInput, match="before the referral"):
        actions.record_wellbeing(prescription=prescription, on=before, by=sp.link, **scores)
    from concerto.referrals import actions as referrals

    referrals.withdraw(
        referral=prescription.referral, version=prescription.referral.version, reason="Moved", by=sp.link
    )
    prescription.referral.refresh_from_db()
    with pytest.raises(InvalidInput, match="withdrawn"):
        actions.record_wellbeing(prescription=prescription, on=dt.date.today(), by=sp.link, **scores)
    assert prescription.wellbeing.count() == 0


def test_a_step_with_a_version_that_is_not_a_number_is_refused_politely(universe, sp):
    prescription = _prescribe(universe, sp)
    response = client_as(sp.harmony).post(
        reverse("directory:act", args=[universe.alice.public_id, prescription.pk, "accept"]), {"version": "abc"}
    )
    assert response.status_code == 302
    prescription.referral.refresh_from_db()
    assert prescription.referral.status == Status.RECEIVED
