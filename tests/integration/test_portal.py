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
        response = client.post("/my/sign-in/", {"nhs_number": nhs_number, **dob})
    actions.wait_for_messages()  # links are texted in the background
    return response


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
    assert "no-store" in page["Cache-Control"]  # not kept on a shared computer
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


def test_links_are_limited_per_hour_and_per_day(universe, outbox, django_capture_on_commit_callbacks, settings):
    settings.PORTAL_LINKS_PER_HOUR = 2
    for _ in range(4):
        ask_for_link(Client(), universe.alice.nhs_number, capture=django_capture_on_commit_callbacks)
    assert len(outbox) == 2
    # Earlier today's links count towards the daily cap even once the hour has passed.
    SignInLink.objects.update(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    settings.PORTAL_LINKS_PER_DAY = 3
    for _ in range(3):
        ask_for_link(Client(), universe.alice.nhs_number, capture=django_capture_on_commit_callbacks)
    assert len(outbox) == 3


def test_the_answer_never_waits_for_the_text_to_be_sent(universe, django_capture_on_commit_callbacks):
    """The link is texted in the background: a matching request answers without waiting for
    Notify, so how long the page takes cannot tell anyone that the details matched."""
    import threading

    Patient.objects.filter(pk=universe.alice.pk).update(mobile_phone="07700 900111")
    release, sent = threading.Event(), []

    class SlowBackend:
        def send(self, message):
            assert release.wait(timeout=10)
            sent.append(message)

    with override_backend(SlowBackend()), django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/my/sign-in/", {"nhs_number": universe.alice.nhs_number, **ALICE_DOB})
    assert response.status_code == 200 and sent == []  # answered while the backend was still blocked
    release.set()
    actions.wait_for_messages()
    assert len(sent) == 1


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
    before_session = client.session.session_key
    client.get("/my/sign-in/")
    before_csrf = client.cookies["csrftoken"].value
    token = actions.issue_sign_in_link(patient=universe.alice)
    client.post(f"/my/sign-in/{token}/")
    assert "_auth_user_id" not in client.session
    # A new session and a new CSRF token: nothing fixed before signing in carries over.
    assert client.session.session_key != before_session
    assert client.cookies["csrftoken"].value != before_csrf
    assert client.get("/my/").status_code == 200


def test_the_portal_reaches_nothing_of_another_patient(universe):
    theirs = referrals.refer(patient=universe.bob, destination=universe.eip, reason="theirs", by=universe.m("gp_n2"))
    mine = referrals.refer(patient=universe.alice, destination=universe.eip, reason="mine", by=universe.m("gp_n1"))
    client = signed_in_as(universe.alice)
    assert client.get(f"/my/referrals/{theirs.pk}/").status_code == 404
    page = client.get(f"/my/referrals/{mine.pk}/")
    assert page.status_code == 200
    # The GP's referral text is the GP's: the patient sees its status, not what others told the GP.
    assert b"mine" not in page.content.split(b'id="maincontent"')[1]
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


def test_self_referral_offers_only_teams_in_the_patients_own_icb(universe):
    from concerto.organisations.actions import create_organisation

    other_icb = create_organisation(code="QT2", name="Other ICB", kind="icb")
    other_trust = create_organisation(code="RT2", name="Other Trust", kind="mh_trust", parent=other_icb)
    elsewhere = create_organisation(
        code="RT2E1", name="Elsewhere EIP", kind="mh_team", team_type="eip", parent=other_trust
    )
    offered = referrals.self_referral_destinations(universe.alice)
    assert universe.eip in offered and elsewhere not in offered


def test_self_referral_points_to_crisis_help_and_never_offers_the_crisis_team(universe):
    from concerto.organisations.actions import create_organisation

    crisis = create_organisation(
        code="RT1X1", name="Crisis Team", kind="mh_team", team_type="crisis", parent=universe.trust
    )
    assert crisis not in referrals.self_referral_destinations(universe.alice)
    page = signed_in_as(universe.alice).get("/my/refer-myself/").content.decode()
    assert "Crisis Team" not in page
    assert "NHS 111" in page and "option 2" in page and "999" in page


# --- questionnaires in the portal ---------------------------------------------------------------

PHQ9_CALM = {str(n): "0" for n in range(1, 10)}


def test_a_patient_fills_in_phq9_and_sees_their_score(universe):
    from concerto.outcomes.models import QuestionnaireResponse

    client = signed_in_as(universe.alice)
    answers = {**PHQ9_CALM, "1": "2", "2": "3", "3": "1"}  # total 6: mild
    response = client.post("/my/questionnaires/phq9/", answers)
    assert response.status_code == 302 and response["Location"] == "/my/questionnaires/"
    saved = QuestionnaireResponse.objects.get(patient=universe.alice)
    assert saved.completed_by_patient and saved.recorded_by is None and not saved.risk_flagged
    assert saved.scores["total"]["value"] == 6
    assert AuditEvent.objects.filter(
        role="patient", what="questionnaire_response", patient_id=universe.alice.pk
    ).exists()
    page = client.get("/my/questionnaires/").content.decode()
    assert 'data-testid="scores-phq9"' in page and "Mild" in page and 'data-chart="chart-phq9"' in page


def test_a_questionnaire_sent_twice_is_recorded_once(universe):
    from concerto.outcomes.models import QuestionnaireResponse

    client = signed_in_as(universe.alice)
    form = client.get("/my/questionnaires/phq9/").content.decode()
    key = re.search(r'name="form_key" value="([^"]+)"', form).group(1)
    for _ in range(2):  # a double click
        client.post("/my/questionnaires/phq9/", {**PHQ9_CALM, "form_key": key})
    assert QuestionnaireResponse.objects.filter(patient=universe.alice).count() == 1


def test_a_risk_answer_shows_where_to_get_help_now_and_alerts_the_care_team(universe):
    from concerto.outcomes.models import RiskAlert

    client = signed_in_as(universe.alice)
    response = client.post("/my/questionnaires/phq9/", {**PHQ9_CALM, "9": "1"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="crisis-text"' in page and "NHS 111" in page and "999" in page
    alert = RiskAlert.objects.get(patient=universe.alice)
    assert universe.practice_n1 in alert.organisations.all()  # the registered practice, at least


def test_missing_answers_are_named_and_nothing_is_saved(universe):
    from concerto.outcomes.models import QuestionnaireResponse

    client = signed_in_as(universe.alice)
    response = client.post("/my/questionnaires/phq9/", {"1": "1"})
    assert response.status_code == 200 and b"There is a problem" in response.content
    assert not QuestionnaireResponse.objects.exists()
    assert client.get("/my/questionnaires/no-such-thing/").status_code == 404


def test_a_patient_sees_only_their_own_questionnaire_scores(universe):
    from concerto.outcomes import actions as outcomes

    outcomes.record_response(
        patient=universe.bob,
        questionnaire="phq9",
        answers={k: 3 for k in PHQ9_CALM},
        by=None,
        completed_by_patient=True,
    )
    page = signed_in_as(universe.alice).get("/my/questionnaires/").content.decode()
    assert 'data-testid="scores-phq9"' not in page


# --- the plan and the crisis plan in the portal ------------------------------------------------


def _agreed_plan(universe, patient, kind="care", content=None):
    from concerto.careplans import actions as plans

    content = content or (
        {"what_matters": "Seeing my daughter every Sunday.", "needs": "Sleep."}
        if kind == "care"
        else {"early_warning_signs": "Stops eating.", "what_helps": "A call from Sam.", "contacts": []}
    )
    first = plans.save_plan(
        patient=patient,
        kind=kind,
        based_on=0,
        content=content,
        by=universe.m("gp_n1" if patient == universe.alice else "gp_n2"),
    )
    return plans.agree_plan(
        patient=patient,
        kind=kind,
        based_on=first.number,
        agreed_with="the patient",
        agreed_on=dt.date.today(),
        how="in_person",
        by=universe.m("gp_n1" if patient == universe.alice else "gp_n2"),
    )


def test_the_patient_sees_their_agreed_plan_and_a_newer_draft_marked_as_a_draft(universe):
    from concerto.careplans import actions as plans

    agreed = _agreed_plan(universe, universe.alice)
    client = signed_in_as(universe.alice)
    page = client.get("/my/plan/").content.decode()
    assert "Seeing my daughter every Sunday." in page and 'data-testid="draft-notice"' not in page
    plans.save_plan(
        patient=universe.alice,
        kind="care",
        based_on=agreed.number,
        content={"what_matters": "Seeing my daughter and going back to work.", "needs": "Sleep."},
        by=universe.m("gp_n1"),
    )
    page = client.get("/my/plan/").content.decode()
    assert 'data-testid="draft-notice"' in page
    agreed_at = page.index("Seeing my daughter every Sunday.")
    assert agreed_at < page.index("Seeing my daughter and going back to work.")  # the agreed plan first


def test_the_crisis_plan_always_shows_the_national_crisis_lines(universe):
    from concerto.careplans import actions as plans

    client = signed_in_as(universe.alice)
    page = client.get("/my/crisis-plan/").content.decode()  # no plan yet
    assert page.count('data-testid="national-fallback"') == 3
    plans.save_plan(
        patient=universe.alice,
        kind="crisis",
        based_on=0,
        content={"early_warning_signs": "Stops eating.", "what_helps": "A call from Sam.", "contacts": []},
        by=universe.m("gp_n1"),
    )
    page = client.get("/my/crisis-plan/").content.decode()  # a draft only
    assert "Stops eating." in page and page.count('data-testid="national-fallback"') >= 3
    for number in ("111", "999", "116123"):
        assert f'href="tel:{number}"' in page


def test_a_patient_asks_for_a_change_and_the_care_team_sees_it(universe):
    from concerto.careplans.models import ChangeRequest

    _agreed_plan(universe, universe.alice)
    client = signed_in_as(universe.alice)
    response = client.post("/my/plan/", {"text": "Please add my new phone number for Sam."})
    assert response.status_code == 302 and response["Location"] == "/my/plan/"
    request = ChangeRequest.objects.get(patient=universe.alice)
    assert request.text == "Please add my new phone number for Sam." and request.kind == "care"
    assert AuditEvent.objects.filter(role="patient", what="plan_change_request").count() == 1
    assert client.post("/my/plan/", {"text": "  "}).status_code == 200
    assert ChangeRequest.objects.count() == 1


def test_the_patient_prints_their_own_plan(universe, monkeypatch):
    from concerto.careplans import pdf

    printed = []
    real = pdf.render_pdf
    monkeypatch.setattr(pdf, "render_pdf", lambda version, **kw: printed.append((version, kw)) or real(version, **kw))
    mine = _agreed_plan(universe, universe.alice)
    _agreed_plan(universe, universe.bob, content={"what_matters": "BOB ONLY", "needs": ""})
    client = signed_in_as(universe.alice)
    response = client.get("/my/plan/print/?large=1")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and "no-store" in response["Cache-Control"]
    assert printed == [(mine, {"large_print": True})]
    assert signed_in_as(universe.carol).get("/my/plan/print/").status_code == 404  # no plan of her own


def test_dialog_completed_in_the_portal_shows_on_the_plan_page(universe):
    _agreed_plan(universe, universe.alice)
    client = signed_in_as(universe.alice)
    answers = {}
    for n in range(1, 12):
        answers[str(n)] = "3" if n in (1, 3) else "6"
        answers[f"{n}-help"] = "yes" if n in (1, 3) else "no"
    assert client.post("/my/questionnaires/dialog/", answers).status_code == 302
    page = client.get("/my/plan/").content.decode()
    section = page[page.index('data-testid="latest-dialog"') :]
    assert (
        "Mental health" in section and "Job situation" in section and "Physical health" not in section.split("</ul>")[0]
    )


def test_a_plan_past_its_review_date_says_so_to_the_patient(universe):
    _agreed_plan(universe, universe.alice, content={"what_matters": "x", "needs": "", "review_date": "2026-01-01"})
    page = signed_in_as(universe.alice).get("/my/plan/").content.decode()
    assert 'data-testid="review-overdue"' in page
