"""Recording questionnaires: access, audit, strict validation, scores kept as recorded, the
selectors the care plan and portal use, risk alerts for the care team and their messages."""

import datetime as dt
import io
import json
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from concerto.access.actions import add_membership
from concerto.access.models import AuditAction, AuditEvent
from concerto.core import clock
from concerto.core.errors import InvalidInput, NotPermitted
from concerto.notifications import override_backend
from concerto.notifications.console import ConsoleBackend
from concerto.notifications.notify import NotifyBackend
from concerto.outcomes import actions, definitions, selectors
from concerto.outcomes.models import QuestionnaireResponse, RiskAlert
from concerto.outcomes.scoring import AnswerErrors
from concerto.people.actions import create_staff_user
from concerto.referrals import actions as referrals
from tests.fixtures import client_as
from tests.unit.test_questionnaire_definitions import MADE_UP
from tests.unit.test_questionnaire_scoring import dialog, gad7, phq9


@pytest.fixture
def key_worker(universe):
    """A CMHT key worker with an email address, named on Alice's open episode."""
    user = create_staff_user(
        username="kw_email", password="a-long-test-password", first_name="Kit", email="kit@example.org"
    )
    member = add_membership(user=user, organisation=universe.cmht, role="key_worker", by=None)
    referral = referrals.refer(
        patient=universe.alice, destination=universe.cmht, reason="Low mood", by=universe.m("gp_n1")
    )
    referrals.accept(
        referral=referral, version=referral.version, named_person=member, rationale="ok", by=universe.m("manager_cmht")
    )
    return member


def days_ago(n):
    return clock.today() - dt.timedelta(days=n)


def test_a_clinician_records_a_phq9_scored_and_audited(universe):
    gp = universe.m("gp_n1")
    response = actions.record_response(patient=universe.alice, questionnaire="phq9", answers=phq9(*(2,) * 9), by=gp)
    assert response.scores["total"] == {"value": 18, "band": "Moderately severe"}
    assert (response.questionnaire_version, response.recorded_by, response.completed_by_patient) == ("1", gp, False)
    event = AuditEvent.objects.filter(what="questionnaire_response").latest("id")
    assert (event.action, event.what, event.membership_id, event.patient_id) == (
        AuditAction.CREATE,
        "questionnaire_response",
        gp.pk,
        universe.alice.pk,
    )
    assert event.detail == {"response": response.pk, "questionnaire": "phq9", "risk": True}


@pytest.mark.parametrize("member", ["gp_s1", "clinician_cmht", "admin_n1", "vcse_worker", "analyst"])
def test_without_a_relationship_or_the_permission_nothing_is_recorded_and_the_refusal_is_audited(universe, member):
    with pytest.raises(NotPermitted):
        actions.record_response(
            patient=universe.alice, questionnaire="gad7", answers=gad7(*(1,) * 7), by=universe.m(member)
        )
    assert not QuestionnaireResponse.objects.exists()
    denied = AuditEvent.objects.latest("id")
    assert (denied.action, denied.what, denied.membership_id) == (
        AuditAction.DENIED,
        "questionnaire_response",
        universe.m(member).pk,
    )


def test_invalid_answers_save_nothing_and_say_what_is_wrong(universe):
    with pytest.raises(AnswerErrors) as refused:
        actions.record_response(patient=universe.alice, questionnaire="gad7", answers={"1": 9}, by=universe.m("gp_n1"))
    assert "choose one of the answers offered" in refused.value.errors["1"]
    assert not QuestionnaireResponse.objects.exists()
    with pytest.raises(InvalidInput, match="no questionnaire called 'nope'"):
        actions.record_response(patient=universe.alice, questionnaire="nope", answers={}, by=universe.m("gp_n1"))
    with pytest.raises(InvalidInput, match="future"):
        actions.record_response(
            patient=universe.alice,
            questionnaire="gad7",
            answers=gad7(*(1,) * 7),
            by=universe.m("gp_n1"),
            completed_on=clock.today() + dt.timedelta(days=1),
        )


def test_the_patient_completing_it_in_the_portal_is_audited_as_the_actor(universe):
    response = actions.record_response(
        patient=universe.alice, questionnaire="dialog", answers=dialog([5] * 11), by=None, completed_by_patient=True
    )
    assert response.recorded_by is None and response.completed_by_patient
    event = AuditEvent.objects.latest("id")
    assert (event.role, event.username, event.membership_id, event.patient_id, event.action) == (
        "patient",
        "patient",
        None,
        universe.alice.pk,
        AuditAction.CREATE,
    )
    with pytest.raises(NotPermitted):
        actions.record_response(patient=universe.alice, questionnaire="dialog", answers=dialog([5] * 11), by=None)


def test_latest_dialog_gives_means_domains_and_wanted_help(universe):
    gp = universe.m("gp_n1")
    assert selectors.latest_dialog(universe.alice, by=gp) is None
    actions.record_response(
        patient=universe.alice, questionnaire="dialog", answers=dialog([2] * 11), by=gp, completed_on=days_ago(60)
    )
    actions.record_response(
        patient=universe.alice,
        questionnaire="dialog",
        answers=dialog([4, 5, 3, 6, 2, 7, 4, 5, 6, 5, 7], helps={3, 5, 9}),
        by=gp,
        completed_on=days_ago(2),
    )
    latest = selectors.latest_dialog(universe.alice, by=gp)
    assert (latest.completed_on, latest.quality_of_life, latest.treatment_satisfaction) == (days_ago(2), 4.5, 6.0)
    assert [(d.number, d.label, d.rating) for d in latest.needs] == [
        (3, "Job situation", 3),
        (5, "Leisure activities", 2),
        (9, "Medication", 6),
    ]
    assert [d.subscale for d in latest.domains] == ["life"] * 8 + ["treatment"] * 3
    with pytest.raises(NotPermitted):
        selectors.latest_dialog(universe.alice, by=universe.m("gp_s1"))
    # The portal's variant reads the same, audited with the patient as actor.
    assert selectors.latest_dialog_for_patient(universe.alice) == latest
    assert AuditEvent.objects.latest("id").role == "patient"
    assert selectors.latest_dialog_for_patient(universe.bob) is None


def test_score_series_is_oldest_first_and_keeps_the_scores_given_at_the_time(universe):
    gp = universe.m("gp_n1")
    for days, level in ((90, 3), (30, 2), (1, 1)):
        actions.record_response(
            patient=universe.alice,
            questionnaire="gad7",
            answers=gad7(*(level,) * 7),
            by=gp,
            completed_on=days_ago(days),
        )
    series = selectors.score_series(universe.alice, "gad7", by=gp)
    assert [(p.completed_on, p.value, p.band) for p in series] == [
        (days_ago(90), 21, "Severe"),
        (days_ago(30), 14, "Moderate"),
        (days_ago(1), 7, "Mild"),
    ]
    assert selectors.score_series_for_patient(universe.alice, "gad7") == series
    assert [r.completed_on for r in selectors.responses(universe.alice, by=gp)] == [
        days_ago(1),
        days_ago(30),
        days_ago(90),
    ]
    with pytest.raises(PermissionError):
        QuestionnaireResponse.objects.update(scores={})


def test_gbo_change_runs_from_the_first_rating_of_the_same_goal(universe):
    gp = universe.m("gp_n1")

    def rate(days, **goals):
        answers = {
            f"goal{n}_{k}": v for n, (text, rating) in goals.items() for k, v in (("text", text), ("rating", rating))
        }
        return actions.record_response(
            patient=universe.alice, questionnaire="gbo", answers=answers, by=gp, completed_on=days_ago(days)
        )

    rate(60, **{"1": ("Get back to work", 2)})
    rate(30, **{"1": ("get back  to work", 5), "2": ("Sleep better", 4)})
    latest = rate(1, **{"1": ("Get back to work", 8), "2": ("Sleep better", 3)})
    assert latest.scores["goal_1"]["change"] == 6  # from 2 at the first rating
    assert latest.scores["goal_2"]["change"] == -1  # from 4: a new goal's baseline is its first rating
    changed = rate(0, **{"1": ("Find a flat", 4)})
    assert changed.scores["goal_1"]["change"] == 0  # a different goal starts its own baseline


def test_a_risk_answer_alerts_the_key_worker_and_care_team_and_messages_them(
    universe, key_worker, fake_notify, django_capture_on_commit_callbacks
):
    template = fake_notify.add_template(
        "email", "Hello ((name)), a questionnaire answer needs your attention.", subject="Concerto"
    )
    backend = NotifyBackend(
        api_key=fake_notify.api_key, base_url=fake_notify.base_url, templates={"risk_alert_staff": template}
    )
    with override_backend(backend), django_capture_on_commit_callbacks(execute=True):
        response = actions.record_response(
            patient=universe.alice, questionnaire="phq9", answers=phq9(*(0,) * 8, 1), by=None, completed_by_patient=True
        )
    alert = RiskAlert.objects.get(response=response)
    assert response.risk_flagged and alert.is_open
    assert list(alert.key_workers.all()) == [key_worker]
    assert {o.code for o in alert.organisations.all()} == {"RT1C1", "T00011"}  # the CMHT and the practice
    assert "question 9" in alert.reasons[0]
    (sent,) = fake_notify.sent
    assert (sent.recipient, sent.body) == ("kit@example.org", "Hello Kit, a questionnaire answer needs your attention.")
    assert sent.payload["reference"] == f"risk-alert-{alert.pk}"  # an internal id, never patient data
    assert "Alice" not in str(sent.payload) and universe.alice.nhs_number not in str(sent.payload)
    alert.refresh_from_db()
    assert (alert.notified, alert.notification_failures) == (1, 0)


def test_no_risk_answer_no_alert(universe, key_worker):
    response = actions.record_response(
        patient=universe.alice, questionnaire="phq9", answers=phq9(*(3,) * 8, 0), by=key_worker
    )
    assert response.scores["total"]["band"] == "Severe" and not response.risk_flagged
    assert not RiskAlert.objects.exists()


def test_without_a_key_worker_the_practice_gets_the_alert(universe, django_capture_on_commit_callbacks):
    console = ConsoleBackend()
    with override_backend(console), django_capture_on_commit_callbacks(execute=True):
        response = actions.record_response(
            patient=universe.bob, questionnaire="phq9", answers=phq9(*(0,) * 8, 2), by=universe.m("gp_n2")
        )
    alert = response.risk_alert
    assert [o.code for o in alert.organisations.all()] == ["T00012"]
    assert console.outbox == []  # nobody in the fixtures has an email address: nothing to send …
    assert [a.pk for a in selectors.open_alerts(by=universe.m("gp_n2"))] == [alert.pk]  # … but it is listed
    assert selectors.open_alerts(by=universe.m("gp_n1")) == []


def test_acknowledging_an_alert_needs_a_note_and_the_first_is_kept(universe, key_worker):
    response = actions.record_response(
        patient=universe.alice, questionnaire="phq9", answers=phq9(*(1,) * 9), by=universe.m("gp_n1")
    )
    alert = response.risk_alert
    with pytest.raises(InvalidInput, match="Say what was done"):
        actions.acknowledge_alert(alert=alert, action_taken=" ", by=key_worker)
    with pytest.raises(NotPermitted):
        actions.acknowledge_alert(alert=alert, action_taken="Called", by=universe.m("clinician_eip"))
    done = actions.acknowledge_alert(alert=alert, action_taken="Phoned; safety plan reviewed", by=key_worker)
    assert not done.is_open and done.acknowledged_by == key_worker
    with pytest.raises(InvalidInput, match="already acknowledged"):
        actions.acknowledge_alert(
            alert=RiskAlert.objects.get(pk=alert.pk), action_taken="Me too", by=universe.m("gp_n1")
        )
    assert RiskAlert.objects.get(pk=alert.pk).action_taken == "Phoned; safety plan reviewed"
    assert selectors.open_alerts(by=key_worker) == []


def test_site_questionnaire_recorded_and_its_risk_rule_applies(universe, settings, tmp_path):
    settings.QUESTIONNAIRE_DIR = tmp_path / "site"
    source = tmp_path / "madeup.json"
    source.write_text(json.dumps(MADE_UP), encoding="utf-8")
    out = io.StringIO()
    call_command("load_questionnaire", str(source), "--check", stdout=out)
    assert "Made-up wellbeing scale (key madeup-wellbeing, version 2), 3 questions" in out.getvalue()
    assert "madeup-wellbeing" not in definitions.all_questionnaires()
    call_command("load_questionnaire", str(source), stdout=out)
    assert (tmp_path / "site" / "madeup-wellbeing.json").exists()
    response = actions.record_response(
        patient=universe.alice,
        questionnaire="madeup-wellbeing",
        answers={"q1": 3, "q2": 3, "q3": 1},
        by=universe.m("gp_n1"),
    )
    assert response.scores["metric"]["value"] == 10.5 and response.risk_flagged


def test_the_load_command_refuses_a_bad_file_and_installs_nothing(settings, tmp_path):
    settings.QUESTIONNAIRE_DIR = tmp_path / "site"
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceType": "Questionnaire", "key": "x"}', encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was installed"):
        call_command("load_questionnaire", str(bad))
    assert not (tmp_path / "site").exists()


# --- pages ------------------------------------------------------------------------------------


def test_a_clinician_records_a_questionnaire_through_the_page(universe):
    gp = client_as(universe.m("gp_n1"))
    url = reverse("outcomes:record", args=[universe.alice.public_id, "gad7"])
    form = gp.get(url)
    assert form.status_code == 200 and b"Feeling nervous, anxious or on edge" in form.content
    posted = {str(n): "2" for n in range(1, 8)} | {"completed_on": days_ago(3).isoformat(), "difficulty": "1"}
    response = gp.post(url, posted)
    saved = QuestionnaireResponse.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "outcomes:response", args=[universe.alice.public_id, saved.pk]
    )
    assert (saved.completed_on, saved.scores["total"]) == (days_ago(3), {"value": 14, "band": "Moderate"})
    assert saved.answers == {str(n): 2 for n in range(1, 8)} | {"difficulty": 1}
    detail = gp.get(response.url)
    assert b"Moderate" in detail.content and b"Somewhat difficult" in detail.content


def test_the_form_shows_every_missing_answer_and_saves_nothing(universe):
    gp = client_as(universe.m("gp_n1"))
    url = reverse("outcomes:record", args=[universe.alice.public_id, "dialog"])
    page = gp.post(url, {"completed_on": clock.today().isoformat(), "1": "5", "1-help": "yes"})
    assert page.status_code == 200 and not QuestionnaireResponse.objects.exists()
    assert page.content.count(b'class="nhsuk-error-message"') == 20  # 10 ratings + 10 help questions
    assert "Answer “Physical health: how satisfied are you?”".encode() in page.content


def test_a_risk_answer_on_the_staff_form_shows_the_crisis_text_and_the_alert(universe, settings):
    settings.CRISIS_TEXT = "Call the Test Crisis Line on 0800 000 0000.|Or call 999."
    gp = client_as(universe.m("gp_n1"))
    url = reverse("outcomes:record", args=[universe.alice.public_id, "phq9"])
    posted = {str(n): "0" for n in range(1, 9)} | {"9": "1", "completed_on": clock.today().isoformat()}
    detail = gp.post(url, posted, follow=True)
    assert b"the key worker and care team have been alerted" in detail.content
    assert b'data-testid="risk-answer"' in detail.content
    assert b"Call the Test Crisis Line on 0800 000 0000." in detail.content and b"Or call 999." in detail.content
    summary = gp.get(reverse("patient-summary", args=[universe.alice.public_id]))
    assert b"1 open risk alert" in summary.content
    alerts = gp.get(reverse("outcomes:alerts"))
    assert b"ASHWORTH, Alice" in alerts.content
    alert = RiskAlert.objects.get()
    acknowledged = gp.post(
        reverse("outcomes:acknowledge", args=[universe.alice.public_id, alert.pk]),
        {"action_taken": "Phoned, safe, plan reviewed", "next": "alerts"},
        follow=True,
    )
    assert b"Alert acknowledged." in acknowledged.content and b"No open risk alerts." in acknowledged.content


def test_without_a_site_text_the_national_crisis_numbers_are_shown(universe, settings):
    settings.CRISIS_TEXT = " | "
    response = actions.record_response(
        patient=universe.alice, questionnaire="phq9", answers=phq9(*(0,) * 8, 3), by=universe.m("gp_n1")
    )
    page = client_as(universe.m("gp_n1")).get(
        reverse("outcomes:response", args=[universe.alice.public_id, response.pk])
    )
    for number in (b"NHS 111", b"option 2", b"999", b"116 123"):
        assert number in page.content


def test_the_outcomes_page_charts_each_questionnaire_with_a_table_of_the_same_figures(universe):
    gp = universe.m("gp_n1")
    for days, level in ((60, 2), (5, 5)):
        actions.record_response(
            patient=universe.alice,
            questionnaire="dialog",
            answers=dialog([level] * 11),
            by=gp,
            completed_on=days_ago(days),
        )
    page = client_as(gp).get(reverse("outcomes:patient", args=[universe.alice.public_id]))
    assert page.status_code == 200
    spec = page.context["panels"][0]["chart"]
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
    values = [v for layer in spec["layer"] for v in layer["data"]["values"] if "value" in v]
    assert sorted((v["date"], v["value"]) for v in values) == sorted(
        [(days_ago(60).isoformat(), 2.0)] * 2 + [(days_ago(5).isoformat(), 5.0)] * 2
    )
    assert b'id="chart-dialog" type="application/json"' in page.content
    assert b'data-chart="chart-dialog"' in page.content
    table = page.content.split(b'data-testid="table-dialog"')[1].split(b"</table>")[0]
    assert table.count(b"5.0") == 2 and table.count(b"2.0") == 2
    assert b"Queen Mary University of London" in page.content  # attribution beside it


def test_staff_who_see_demographics_only_cannot_open_questionnaires(universe):
    admin = client_as(universe.m("admin_n1"))
    assert admin.get(reverse("outcomes:patient", args=[universe.alice.public_id])).status_code == 404
    summary = admin.get(reverse("patient-summary", args=[universe.alice.public_id]))
    assert b"Questionnaires and outcomes" not in summary.content
    assert client_as(universe.m("analyst")).get(reverse("outcomes:alerts")).status_code == 403


def test_la_social_worker_reads_but_cannot_record(universe):
    from concerto.access.actions import add_to_care_team, record_consent

    add_to_care_team(
        patient=universe.alice,
        organisation=universe.council,
        role_in_care="Social care",
        start=days_ago(10),
        by=universe.m("gp_n1"),
    )
    record_consent(patient=universe.alice, organisation_kind="local_authority", granted=True, by=universe.m("gp_n1"))
    social = client_as(universe.m("socialworker"))
    assert social.get(reverse("outcomes:patient", args=[universe.alice.public_id])).status_code == 200
    assert social.get(reverse("outcomes:record", args=[universe.alice.public_id, "phq9"])).status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_acknowledging_at_once_the_first_is_kept():
    from tests.fixtures import Universe

    u = Universe()
    response = actions.record_response(
        patient=u.alice, questionnaire="phq9", answers=phq9(*(0,) * 8, 2), by=u.m("gp_n1")
    )
    barrier = threading.Barrier(2)
    results: list[str] = []

    def acknowledge(member, note):
        try:
            barrier.wait(timeout=10)
            actions.acknowledge_alert(
                alert=RiskAlert.objects.get(pk=response.risk_alert.pk), action_taken=note, by=member
            )
            results.append(note)
        except InvalidInput:
            results.append("told")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=acknowledge, args=(u.m("gp_n1"), "GP phoned")),
        threading.Thread(target=acknowledge, args=(u.m("nurse_n1"), "Nurse visited")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 2 and results.count("told") == 1
    (kept,) = [r for r in results if r != "told"]
    assert RiskAlert.objects.get(pk=response.risk_alert.pk).action_taken == kept
    assert AuditEvent.objects.filter(what="risk_alert", action=AuditAction.UPDATE).count() == 1


def test_a_form_submitted_twice_records_one_response_and_one_alert(universe):
    gp = client_as(universe.m("gp_n1"))
    url = reverse("outcomes:record", args=[universe.alice.public_id, "phq9"])
    key = gp.get(url).context["form"]["form_key"].value()
    posted = {str(n): "1" for n in range(1, 10)} | {"completed_on": clock.today().isoformat(), "form_key": key}
    first, second = gp.post(url, posted), gp.post(url, posted)
    assert first.url == second.url
    assert QuestionnaireResponse.objects.count() == 1 and RiskAlert.objects.count() == 1
    with pytest.raises(InvalidInput, match="already used"):
        actions.record_response(
            patient=universe.alice,
            questionnaire="gad7",
            answers=gad7(*(0,) * 7),
            by=universe.m("gp_n1"),
            idempotency_key=key,
        )
