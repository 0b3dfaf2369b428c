"""The patient portal: sign-in by one-time link, a session bound to one patient, self-referral."""

import datetime as dt
import io
import re

import pytest
from django.test import Client

from concerto.access.models import AuditEvent
from concerto.notifications import override_backend
from concerto.notifications.console import ConsoleBackend
from concerto.people.models import Patient
from concerto.portal import actions
from concerto.portal.auth import SESSION_KEY
from concerto.portal.models import SignInLink
from concerto.referrals import actions as referrals
from concerto.referrals.models import Referral, Source, Status
from tests.fixtures import PASSWORD

ALICE_DOB = {"dob_day": "17", "dob_month": "5", "dob_year": "1980"}


@pytest.fixture
def outbox(universe):
    Patient.objects.filter(pk=universe.alice.pk).update(mobile_phone="07700 900111")
    backend = ConsoleBackend(stream=io.StringIO())
    with override_backend(backend):
        yield backend.outbox


def ask_for_link(client: Client, nhs_number: str, dob=ALICE_DOB, capture=None):
    with capture(execute=True):
        return client.post("/my/sign-in/", {"nhs_number": nhs_number, **dob})


def signed_in_as(patient: Patient) -> Client:
    client = Client()
    token = actions.issue_sign_in_link(patient=patient)
    response = client.post(f"/my/sign-in/{token}/")
    assert response.status_code == 302 and response["Location"] == "/my/"
    return client


def test_matching_details_text_a_one_time_link_that_signs_the_patient_in(
    universe, outbox, django_capture_on_commit_callbacks
):
    client = Client()
    response = ask_for_link(client, universe.alice.nhs_number, capture=django_capture_on_commit_callbacks)
    assert response.status_code == 200 and b"Check your phone" in response.content
    (message,) = outbox
    assert message.to == "07700 900111" and message.template == "portal_sign_in"
    assert message.reference == "portal-sign-in"  # never patient data
    link = message.personalisation["link"]
    path = re.sub(r"^https?://[^/]+", "", link)
    assert path.startswith("/my/sign-in/")
    # Opening the link (as a link scanner would) does not use it up; the button does.
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 302
    assert client.session[SESSION_KEY] == universe.alice.pk
    page = client.get("/my/")
    assert page.status_code == 200 and b"Your care, Alice" in page.content
    # Used once: a second use is refused.
    assert Client().post(path).status_code == 410


def test_details_that_match_nobody_get_the_same_answer_and_send_nothing(
    universe, outbox, django_capture_on_commit_callbacks
):
    matched = ask_for_link(Client(), universe.alice.nhs_number, capture=django_capture_on_commit_callbacks)
    wrong_dob = ask_for_link(
        Client(),
        universe.alice.nhs_number,
        dob={"dob_day": "18", "dob_month": "5", "dob_year": "1980"},
        capture=django_capture_on_commit_callbacks,
    )
    no_mobile = ask_for_link(
        Client(),
        universe.bob.nhs_number,
        dob={"dob_day": "3", "dob_month": "2", "dob_year": "1975"},
        capture=django_capture_on_commit_callbacks,
    )
    assert len(outbox) == 1
    strip = lambda r: re.sub(rb'(csrfmiddlewaretoken" value|nonce)="[^"]+"', b"", r.content)  # noqa: E731
    assert strip(matched) == strip(wrong_dob) == strip(no_mobile)


def test_an_invalid_nhs_number_is_explained(universe, outbox, django_capture_on_commit_callbacks):
    response = ask_for_link(Client(), "9990001230", capture=django_capture_on_commit_callbacks)
    assert response.status_code == 200 and b"check digit" in response.content
    assert outbox == []


def test_links_are_limited_per_hour(universe, outbox, django_capture_on_commit_callbacks, settings):
    settings.PORTAL_LINKS_PER_HOUR = 2
    for _ in range(4):
        ask_for_link(Client(), universe.alice.nhs_number, capture=django_capture_on_commit_callbacks)
    assert len(outbox) == 2


def test_an_expired_link_does_not_sign_in(universe):
    token = actions.issue_sign_in_link(patient=universe.alice)
    SignInLink.objects.update(expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    client = Client()
    assert client.get(f"/my/sign-in/{token}/").status_code == 410
    assert client.post(f"/my/sign-in/{token}/").status_code == 410
    assert SESSION_KEY not in client.session
    assert Client().post("/my/sign-in/not-a-token/").status_code == 410


def test_the_database_holds_no_usable_token(universe):
    token = actions.issue_sign_in_link(patient=universe.alice)
    assert not SignInLink.objects.filter(token_hash=token).exists()


def test_portal_pages_need_a_signed_in_patient(universe):
    for path in ["/my/", "/my/referrals/", "/my/refer-myself/"]:
        response = Client().get(path)
        assert response.status_code == 302 and response["Location"] == "/my/sign-in/"


def test_a_staff_log_in_is_never_also_a_patient(universe):
    client = signed_in_as(universe.alice)
    assert client.login(username="gp_n1", password=PASSWORD)
    assert client.get("/my/").status_code == 302


def test_signing_in_as_a_patient_ends_a_staff_session(universe):
    client = Client()
    assert client.login(username="gp_n1", password=PASSWORD)
    token = actions.issue_sign_in_link(patient=universe.alice)
    client.post(f"/my/sign-in/{token}/")
    assert "_auth_user_id" not in client.session
    assert client.get("/my/").status_code == 200


def test_the_portal_reaches_nothing_of_another_patient(universe):
    theirs = referrals.refer(patient=universe.bob, destination=universe.eip, reason="theirs", by=universe.m("gp_n2"))
    mine = referrals.refer(patient=universe.alice, destination=universe.eip, reason="mine", by=universe.m("gp_n1"))
    client = signed_in_as(universe.alice)
    assert client.get(f"/my/referrals/{theirs.pk}/").status_code == 404
    assert client.get(f"/my/referrals/{mine.pk}/").status_code == 200
    listing = client.get("/my/referrals/").content.decode()
    assert f"/my/referrals/{mine.pk}/" in listing and f"/my/referrals/{theirs.pk}/" not in listing


def test_a_deceased_patient_cannot_sign_in(universe):
    token = actions.issue_sign_in_link(patient=universe.alice)
    Patient.objects.filter(pk=universe.alice.pk).update(date_of_death=dt.date(2024, 1, 1))
    assert Client().post(f"/my/sign-in/{token}/").status_code == 410


def test_what_the_patient_sees_is_audited_with_the_patient_as_actor(universe):
    client = signed_in_as(universe.alice)
    client.get("/my/")
    client.get("/my/referrals/")
    seen = list(AuditEvent.objects.filter(role="patient", patient_id=universe.alice.pk).values_list("what", flat=True))
    assert {"portal_sign_in_link", "portal_sign_in", "portal_home", "portal_referrals"} <= set(seen)


def test_self_referral_enters_triage_once_however_often_it_is_sent(universe):
    client = signed_in_as(universe.alice)
    page = client.get("/my/refer-myself/").content.decode()
    assert "North CMHT" in page and "EIP Team" in page
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    form = {"destination": str(universe.cmht.pk), "reason": "I keep hearing voices at night", "idempotency_key": key}
    first = client.post("/my/refer-myself/", form)
    second = client.post("/my/refer-myself/", form)  # a double click
    referral = Referral.objects.get(patient=universe.alice)
    assert first["Location"] == second["Location"] == f"/my/referrals/{referral.pk}/"
    assert (referral.source, referral.status, referral.referrer) == (Source.SELF, Status.RECEIVED, None)
    assert AuditEvent.objects.filter(role="patient", what="self_referral", patient_id=universe.alice.pk).count() == 1
    # The team sees it like any other referral.
    from concerto.referrals import selectors

    assert referral in selectors.triage_queue(by=universe.m("manager_cmht"))


def test_self_referral_only_to_the_services_offered(universe):
    # The CMHT is aligned to the north PCN: a south patient is not offered it, and cannot post it.
    assert universe.cmht not in referrals.self_referral_destinations(universe.carol)
    client = signed_in_as(universe.carol)
    response = client.post(
        "/my/refer-myself/",
        {"destination": str(universe.cmht.pk), "reason": "help", "idempotency_key": "k1"},
    )
    assert response.status_code == 200 and b"Select a valid choice" in response.content
    assert not Referral.objects.filter(patient=universe.carol).exists()
    from concerto.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        referrals.self_refer(patient=universe.carol, destination=universe.cmht, reason="help", idempotency_key="k2")


def test_staff_can_print_a_link_to_hand_over_and_it_signs_in(universe):
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("portal_link", universe.alice.nhs_number, "--base-url", "http://clinic.example", stdout=out)
    url = out.getvalue().strip()
    assert url.startswith("http://clinic.example/my/sign-in/")
    client = Client()
    client.post(url.removeprefix("http://clinic.example"))
    assert client.session[SESSION_KEY] == universe.alice.pk
    with pytest.raises(CommandError, match="check digit"):
        call_command("portal_link", "9990001230", stdout=io.StringIO())


def test_the_demo_names_a_portal_patient_with_a_referral_and_a_mobile(universe):
    from concerto.portal.demo import portal_patient

    assert portal_patient() is None
    Patient.objects.filter(pk=universe.bob.pk).update(mobile_phone="07700 900222")
    referrals.refer(patient=universe.bob, destination=universe.eip, reason="x", by=universe.m("gp_n2"))
    assert portal_patient() == universe.bob


def test_self_referral_points_to_crisis_help_and_never_offers_the_crisis_team(universe):
    from concerto.organisations.actions import create_organisation

    crisis = create_organisation(
        code="RT1X1", name="Crisis Team", kind="mh_team", team_type="crisis", parent=universe.trust
    )
    assert crisis not in referrals.self_referral_destinations(universe.alice)
    page = signed_in_as(universe.alice).get("/my/refer-myself/").content.decode()
    assert "Crisis Team" not in page
    assert "NHS 111" in page and "option 2" in page and "999" in page
