"""Referrals: the lifecycle, redirects and clocks, idempotency, optimistic locking, access."""

import datetime as dt
import io
import threading

import pytest
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from concerto.access.models import AuditAction, AuditEvent
from concerto.access.permissions import Permission
from concerto.access.policy import can_access_patient
from concerto.core import clock
from concerto.core.errors import InvalidInput, NotPermitted
from concerto.notifications import override_backend
from concerto.notifications.console import ConsoleBackend
from concerto.referrals import actions, machine, selectors
from concerto.referrals.models import NAMED_PERSON_STATUSES, OPEN_STATUSES, Episode, Referral, Status
from tests.fixtures import client_as

VIEW = Permission.PATIENT_VIEW_DEMOGRAPHICS


@pytest.fixture
def referral(universe):
    return actions.refer(
        patient=universe.alice,
        destination=universe.cmht,
        reason="Low mood, hearing voices",
        by=universe.m("gp_n1"),
        received_on=dt.date(2026, 9, 1),
    )


def test_the_machine_has_no_rejected_state_and_every_open_state_has_a_way_out():
    assert "rejected" not in Status.values
    for status in OPEN_STATUSES:
        assert machine.TRANSITIONS[status] >= machine.EXITS
    for status in set(Status.values) - set(OPEN_STATUSES):
        assert machine.TRANSITIONS[status] == set()


def test_invalid_moves_are_refused_with_a_clear_message(universe, referral):
    with pytest.raises(InvalidInput, match="cannot become in support or treatment; it can become: "):
        actions.start_treatment(
            referral=referral, version=referral.version, on=dt.date(2026, 9, 2), by=universe.m("clinician_cmht")
        )


def test_a_referral_gives_the_team_a_relationship_until_it_leaves(universe, referral):
    clinician = universe.m("clinician_cmht")
    assert can_access_patient(clinician, universe.alice, VIEW)
    onward = actions.redirect(
        referral=referral,
        version=referral.version,
        destination=universe.eip,
        handover_note="First episode: EIP",
        by=clinician,
    )
    assert not can_access_patient(clinician, universe.alice, VIEW), "redirected away, no episode"
    assert can_access_patient(universe.m("clinician_eip"), universe.alice, VIEW)
    assert onward.status == Status.RECEIVED


def test_accepting_names_a_person_and_opens_an_episode(universe, referral):
    manager, keyworker = universe.m("manager_cmht"), universe.m("keyworker_cmht")
    accepted = actions.accept(
        referral=referral, version=referral.version, named_person=keyworker, rationale="Meets CMHT criteria", by=manager
    )
    episode = Episode.objects.get(referral=accepted)
    assert accepted.named_person == keyworker and episode.key_worker == keyworker and episode.team == universe.cmht
    assert [e.patient for e in selectors.caseload(by=keyworker)] == [universe.alice]
    with pytest.raises(InvalidInput, match="must work for the team"):
        other = actions.refer(patient=universe.alice, destination=universe.eip, reason="x", by=universe.m("gp_n1"))
        actions.accept(
            referral=other, version=other.version, named_person=keyworker, rationale="", by=universe.m("clinician_eip")
        )


def test_redirect_needs_a_hand_over_note_and_another_destination(universe, referral):
    clinician = universe.m("clinician_cmht")
    with pytest.raises(InvalidInput, match="hand-over note"):
        actions.redirect(
            referral=referral, version=referral.version, destination=universe.vcse, handover_note=" ", by=clinician
        )
    with pytest.raises(InvalidInput, match="different service"):
        actions.redirect(
            referral=referral, version=referral.version, destination=universe.cmht, handover_note="x", by=clinician
        )


def test_the_clock_runs_from_the_first_referral_across_redirects(universe):
    today = clock.today()
    first = actions.refer(
        patient=universe.alice,
        destination=universe.cmht,
        reason="Voices",
        by=universe.m("gp_n1"),
        received_on=today - dt.timedelta(days=20),
    )
    onward = actions.redirect(
        referral=first,
        version=first.version,
        destination=universe.eip,
        handover_note="Suspected first episode psychosis",
        by=universe.m("clinician_cmht"),
    )
    assert onward.clock_start == first.received_on and onward.redirected_from == first
    assert onward.received_on == today
    eip = universe.m("clinician_eip")
    onward = actions.accept(referral=onward, version=onward.version, named_person=eip, rationale="FEP", by=eip)
    onward = actions.record_assessment(referral=onward, version=onward.version, on=today, by=eip)
    onward = actions.start_treatment(referral=onward, version=onward.version, on=today, by=eip)
    stopped = selectors.clock_for(onward)
    assert (stopped.days, stopped.target_days, stopped.breached, stopped.running) == (20, 14, True, False)
    assert selectors.clock_for(onward, today=today + dt.timedelta(days=400)).days == 20, "a stopped clock stays"


@pytest.mark.parametrize(("days", "breached"), [(28, False), (29, True)])
def test_a_waiting_clock_is_highlighted_once_over_its_standard(universe, days, breached):
    referral = actions.refer(
        patient=universe.alice,
        destination=universe.cmht,
        reason="x",
        by=universe.m("gp_n1"),
        received_on=clock.today() - dt.timedelta(days=days),
    )
    ((shown, waiting),) = selectors.waiting_list(by=universe.m("clinician_cmht"))
    assert shown == referral and waiting.running and (waiting.days, waiting.breached) == (days, breached)
    page = client_as(universe.m("clinician_cmht")).get(reverse("referrals:waiting"))
    assert (b"Over 28 days" in page.content) is breached


def test_the_same_idempotency_key_creates_one_referral(universe):
    gp = universe.m("gp_n1")
    first = actions.refer(patient=universe.alice, destination=universe.cmht, reason="x", by=gp, idempotency_key="k1")
    again = actions.refer(patient=universe.alice, destination=universe.cmht, reason="x", by=gp, idempotency_key="k1")
    assert first == again and Referral.objects.count() == 1
    with pytest.raises(InvalidInput, match="another patient"):
        actions.refer(
            patient=universe.bob, destination=universe.cmht, reason="x", by=universe.m("gp_n2"), idempotency_key="k1"
        )


def test_a_stale_version_gets_a_conflict_and_changes_nothing(universe, referral):
    manager, clinician = universe.m("manager_cmht"), universe.m("clinician_cmht")
    seen = referral.version
    actions.triage(referral=referral, version=seen, rationale="Discuss Tuesday", by=manager)
    stale = Referral.objects.get(pk=referral.pk)
    stale.version = seen  # what the second person's page still shows
    with pytest.raises(actions.Conflict, match="Someone else changed this referral"):
        actions.accept(referral=stale, version=seen, named_person=clinician, rationale="", by=clinician)
    fresh = Referral.objects.get(pk=referral.pk)
    assert fresh.status == Status.TRIAGED and not Episode.objects.exists()


def test_only_the_owning_team_or_its_pcn_hub_may_decide(universe, referral):
    with pytest.raises(NotPermitted):
        actions.triage(referral=referral, version=referral.version, rationale="x", by=universe.m("clinician_eip"))
    hub = actions.triage(referral=referral, version=referral.version, rationale="Hub", by=universe.m("mhp_north"))
    assert hub.status == Status.TRIAGED


def test_status_changes_are_told_to_the_referrer_and_the_patient(universe):
    from concerto.people.models import Patient, User

    User.objects.filter(pk=universe.m("gp_n1").user_id).update(email="gp@example.nhs.uk")
    Patient.objects.filter(pk=universe.alice.pk).update(mobile_phone="07700 900111")
    backend = ConsoleBackend(stream=io.StringIO())
    with override_backend(backend):
        r = actions.refer(patient=universe.alice, destination=universe.cmht, reason="x", by=universe.m("gp_n1"))
        receipts = actions.notify_status(r.pk)
    assert [m.to for m in backend.outbox][-2:] == ["gp@example.nhs.uk", "07700 900111"]
    assert len(receipts) == 2 and backend.outbox[-2].personalisation["status"] == "received"
    # The patient's text never names the service (it may be read by someone else).
    assert backend.outbox[-1].personalisation == {"name": "Alice"}


def test_contacts_stop_the_first_contact_clock_only_when_attended(universe, referral):
    manager, keyworker = universe.m("manager_cmht"), universe.m("keyworker_cmht")
    accepted = actions.accept(
        referral=referral, version=referral.version, named_person=keyworker, rationale="", by=manager
    )
    episode = accepted.episode
    actions.record_contact(episode=episode, on=dt.date(2026, 9, 5), outcome="dna", by=keyworker)
    assert Referral.objects.get(pk=referral.pk).first_contact_on is None
    actions.record_contact(episode=episode, on=dt.date(2026, 9, 8), outcome="attended", by=keyworker)
    actions.record_contact(episode=episode, on=dt.date(2026, 9, 12), outcome="attended", by=keyworker)
    assert Referral.objects.get(pk=referral.pk).first_contact_on == dt.date(2026, 9, 8)
    with pytest.raises(NotPermitted):
        actions.record_contact(episode=episode, on=dt.date(2026, 9, 9), outcome="attended", by=universe.m("gp_n1"))


def test_refused_referral_actions_are_audited(universe, referral):
    with pytest.raises(NotPermitted):
        actions.refer(patient=universe.carol, destination=universe.cmht, reason="x", by=universe.m("gp_n1"))
    assert AuditEvent.objects.latest("id").action == AuditAction.DENIED


# --- pages -----------------------------------------------------------------------------------


def test_a_double_submitted_referral_form_creates_one_referral(universe):
    gp = client_as(universe.m("gp_n1"))
    url = reverse("referrals:refer", args=[universe.alice.public_id])
    form = {"destination": universe.cmht.pk, "reason": "Paranoid thoughts", "idempotency_key": "abc123"}
    first, second = gp.post(url, form), gp.post(url, form)
    assert first.status_code == second.status_code == 302 and first.url == second.url
    assert Referral.objects.count() == 1


def test_the_hub_decides_and_a_stale_decision_is_refused(universe, referral):
    hub = client_as(universe.m("mhp_north"))
    page = hub.get(reverse("referrals:hub"))
    assert b"ASHWORTH, Alice" in page.content and b"1 to decide" in page.content
    decide = reverse("referrals:act", args=[universe.alice.public_id, referral.pk, "decide"])
    form = {
        "version": referral.version,
        "decision": "redirect",
        "destination": universe.vcse.pk,
        "rationale": "Music group first",
        "next": reverse("referrals:hub"),
    }
    refused = hub.post(decide, form, follow=True)
    assert b"Confirm that the patient agrees to share" in refused.content
    assert Referral.objects.get(pk=referral.pk).status == Status.RECEIVED
    form["consent_confirmed"] = "on"
    assert hub.post(decide, form).status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == Status.REDIRECTED
    again = hub.post(decide, form, follow=True)
    assert b"cannot change any more" in again.content or b"Someone else changed" in again.content
    assert Referral.objects.filter(redirected_from=referral).count() == 1


def test_the_gp_sees_the_new_status_on_the_patient_page(universe, referral):
    actions.redirect(
        referral=referral,
        version=referral.version,
        destination=universe.vcse,
        handover_note="Music group",
        consent_confirmed=True,
        by=universe.m("mhp_north"),
    )
    page = client_as(universe.m("gp_n1")).get(reverse("patient-summary", args=[universe.alice.public_id]))
    text = page.content.decode()
    assert "Redirected" in text and "Test Music Charity" in text and "Received" in text


# --- the state machine, explored by Hypothesis -------------------------------------------------


class ReferralMachine(RuleBasedStateMachine):
    """Random walks through the lifecycle with the real actions and database."""

    universe = None  # set by the test

    def __init__(self):
        super().__init__()
        u = self.universe
        self.referral = actions.refer(
            patient=u.alice, destination=u.cmht, reason="x", by=u.m("gp_n1"), received_on=dt.date(2026, 8, 1)
        )
        self.first_clock = self.referral.clock_start
        self.versions = {self.referral.pk: [self.referral.version]}

    def _team(self):
        u, r = self.universe, self.referral
        return {u.cmht.pk: u.m("manager_cmht"), u.eip.pk: u.m("clinician_eip")}.get(r.destination_id)

    def _apply(self, result):
        self.referral = Referral.objects.get(pk=result.pk)  # a redirect continues with the onward referral
        self.versions.setdefault(self.referral.pk, []).append(self.referral.version)

    @precondition(lambda self: self.referral.status == Status.RECEIVED)
    @rule()
    def triage(self):
        self._apply(
            actions.triage(referral=self.referral, version=self.referral.version, rationale="t", by=self._team())
        )

    @precondition(lambda self: self.referral.status in (Status.RECEIVED, Status.TRIAGED))
    @rule()
    def accept(self):
        me = self._team()
        self._apply(
            actions.accept(referral=self.referral, version=self.referral.version, named_person=me, rationale="a", by=me)
        )

    @precondition(
        lambda self: self.referral.is_open and self.referral.destination_id != ReferralMachine.universe.eip.pk
    )
    @rule()
    def redirect_to_eip(self):
        self._apply(
            actions.redirect(
                referral=self.referral,
                version=self.referral.version,
                destination=self.universe.eip,
                handover_note="h",
                by=self._team(),
            )
        )

    @precondition(lambda self: self.referral.status == Status.ACCEPTED)
    @rule()
    def assess(self):
        self._apply(
            actions.record_assessment(
                referral=self.referral, version=self.referral.version, on=clock.today(), by=self._team()
            )
        )

    @precondition(lambda self: self.referral.status == Status.ASSESSED)
    @rule()
    def treat(self):
        self._apply(
            actions.start_treatment(
                referral=self.referral, version=self.referral.version, on=clock.today(), by=self._team()
            )
        )

    @precondition(lambda self: self.referral.status == Status.IN_TREATMENT)
    @rule()
    def complete(self):
        self._apply(
            actions.complete(referral=self.referral, version=self.referral.version, note="done", by=self._team())
        )

    @precondition(lambda self: self.referral.is_open)
    @rule(how=st.sampled_from(["decline", "withdraw"]))
    def leave(self, how):
        step = actions.decline_by_patient if how == "decline" else actions.withdraw
        self._apply(step(referral=self.referral, version=self.referral.version, reason="r", by=self._team()))

    @rule(target_status=st.sampled_from(Status.values))
    def invalid_moves_are_refused(self, target_status):
        if machine.can_move(self.referral.status, target_status):
            return
        with pytest.raises(InvalidInput):
            actions._move(
                self.referral, target_status, version=self.referral.version, by=self._team() or self.universe.m("gp_n1")
            )

    @invariant()
    def open_referrals_have_an_owner_and_a_way_out(self):
        r = self.referral
        if r.is_open:
            assert r.destination_id is not None
            assert machine.TRANSITIONS[r.status]
            if r.status in NAMED_PERSON_STATUSES:
                assert r.named_person_id is not None

    @invariant()
    def the_first_clock_is_kept(self):
        assert self.referral.clock_start == self.first_clock

    @invariant()
    def versions_only_go_up(self):
        for seen in self.versions.values():
            assert seen == sorted(set(seen))


def test_referral_state_machine(universe):
    ReferralMachine.universe = universe
    run_state_machine_as_test(
        ReferralMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


# --- concurrency, on PostgreSQL ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_deciding_at_once_exactly_one_wins():
    from tests.fixtures import Universe

    u = Universe()
    referral = actions.refer(patient=u.alice, destination=u.cmht, reason="x", by=u.m("gp_n1"))
    version = referral.version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(member, how):
        try:
            barrier.wait(timeout=10)
            mine = Referral.objects.get(pk=referral.pk)
            if how == "accept":
                actions.accept(referral=mine, version=version, named_person=member, rationale="", by=member)
            else:
                actions.redirect(referral=mine, version=version, destination=u.vcse, handover_note="h", by=member)
            outcomes.append("won")
        except actions.Conflict:
            outcomes.append("conflict")
        except InvalidInput:
            outcomes.append("conflict")  # the loser saw the winner's state first
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(u.m("manager_cmht"), "accept")),
        threading.Thread(target=decide, args=(u.m("clinician_cmht"), "redirect")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "won"]
    final = Referral.objects.get(pk=referral.pk)
    assert final.version == version + 1
    assert (final.status == Status.ACCEPTED) == Episode.objects.exists()
    assert (final.status == Status.REDIRECTED) == Referral.objects.filter(redirected_from=final).exists()


def test_a_closed_referrals_clock_stops_when_it_closes(universe):
    today = clock.today()
    r = actions.refer(
        patient=universe.alice,
        destination=universe.vcse,
        reason="x",
        by=universe.m("gp_n1"),
        received_on=today - dt.timedelta(days=5),
        consent_confirmed=True,
    )
    r = actions.withdraw(referral=r, version=r.version, reason="Moved away", by=universe.m("gp_n1"))
    assert selectors.clock_for(r, today=today + dt.timedelta(days=100)).days == 5


def test_pathway_performance_and_two_or_more_contacts(universe):
    today = clock.today()
    eip = universe.m("clinician_eip")

    def treated(days_waited):
        r = actions.refer(
            patient=universe.alice,
            destination=universe.eip,
            reason="x",
            by=universe.m("gp_n1"),
            received_on=today - dt.timedelta(days=days_waited),
        )
        r = actions.accept(referral=r, version=r.version, named_person=eip, rationale="", by=eip)
        r = actions.record_assessment(referral=r, version=r.version, on=today, by=eip)
        return actions.start_treatment(referral=r, version=r.version, on=today, by=eip)

    quick, slow = treated(10), treated(20)
    (eip_row,) = selectors.performance(by=eip)
    assert (eip_row.stopped, eip_row.within, eip_row.percent, eip_row.meets) == (2, 1, 50.0, False)
    for day in (1, 2):
        actions.record_contact(episode=quick.episode, on=today - dt.timedelta(days=day), outcome="attended", by=eip)
    actions.record_contact(episode=slow.episode, on=today, outcome="attended", by=eip)
    actions.record_contact(episode=slow.episode, on=today, outcome="dna", by=eip)
    assert selectors.two_or_more_contacts(team=universe.eip) == (1, 1)  # one person, both episodes theirs


def test_status_messages_go_out_after_the_change_commits(universe, django_capture_on_commit_callbacks):
    backend = ConsoleBackend(stream=io.StringIO())
    with override_backend(backend), django_capture_on_commit_callbacks(execute=True) as callbacks:
        actions.refer(patient=universe.alice, destination=universe.cmht, reason="x", by=universe.m("gp_n1"))
    assert len(callbacks) == 1  # queued for after the commit, not sent inside the transaction


def test_reusing_a_form_for_another_destination_is_refused_not_lost(universe):
    gp = universe.m("gp_n1")
    actions.refer(patient=universe.alice, destination=universe.cmht, reason="x", by=gp, idempotency_key="k2")
    with pytest.raises(InvalidInput, match="already sent, to North CMHT"):
        actions.refer(patient=universe.alice, destination=universe.eip, reason="x", by=gp, idempotency_key="k2")


def test_referring_to_a_vcse_partner_needs_and_records_the_patients_agreement(universe):
    from concerto.access.models import Consent

    gp = universe.m("gp_n1")
    with pytest.raises(InvalidInput, match="agrees to share"):
        actions.refer(patient=universe.alice, destination=universe.vcse, reason="Music", by=gp)
    r = actions.refer(patient=universe.alice, destination=universe.vcse, reason="Music", by=gp, consent_confirmed=True)
    assert Consent.objects.get(patient=universe.alice, organisation_kind="vcse").granted
    vcse = universe.m("vcse_worker")
    assert can_access_patient(vcse, universe.alice, VIEW)
    assert [x.pk for x, _ in selectors.waiting_list(by=vcse)] == [r.pk]


def test_the_pcn_hub_can_open_every_referral_it_lists(universe):
    # Carol is registered in the south PCN, but her referral to the north CMHT is the north hub's to decide.
    r = actions.refer(patient=universe.carol, destination=universe.cmht, reason="x", by=universe.m("gp_s1"))
    hub = universe.m("mhp_north")
    assert [x.pk for x in selectors.triage_queue(by=hub)] == [r.pk]
    assert can_access_patient(hub, universe.carol, VIEW)
    assert selectors.triage_queue(by=universe.m("clinician_eip")) == []


def test_practice_admin_cannot_withdraw_referrals(universe, referral):
    with pytest.raises(NotPermitted):
        actions.withdraw(referral=referral, version=referral.version, reason="x", by=universe.m("admin_n1"))
    withdrawn = actions.withdraw(referral=referral, version=referral.version, reason="Moved", by=universe.m("gp_n1"))
    assert withdrawn.status == Status.WITHDRAWN


def test_demographic_roles_do_not_see_the_clinical_reason(universe):
    gp = universe.m("gp_n1")
    r = actions.refer(patient=universe.alice, destination=universe.cmht, reason="Command hallucinations", by=gp)
    page = client_as(universe.m("admin_n1")).get(reverse("referrals:detail", args=[universe.alice.public_id, r.pk]))
    assert page.status_code == 200 and b"Command hallucinations" not in page.content
    page = client_as(gp).get(reverse("referrals:detail", args=[universe.alice.public_id, r.pk]))
    assert b"Command hallucinations" in page.content


def test_reassigning_the_named_person_moves_the_episode(universe, referral):
    manager, keyworker = universe.m("manager_cmht"), universe.m("keyworker_cmht")
    clinician = universe.m("clinician_cmht")
    r = actions.accept(referral=referral, version=referral.version, named_person=keyworker, rationale="", by=manager)
    r = actions.reassign(referral=r, version=r.version, named_person=clinician, by=manager)
    assert r.named_person == clinician and Episode.objects.get(referral=r).key_worker == clinician
    with pytest.raises(actions.Conflict):
        actions.reassign(referral=r, version=r.version - 1, named_person=keyworker, by=manager)


def test_a_late_recorded_earlier_contact_moves_the_first_contact_back(universe, referral):
    manager, keyworker = universe.m("manager_cmht"), universe.m("keyworker_cmht")
    r = actions.accept(referral=referral, version=referral.version, named_person=keyworker, rationale="", by=manager)
    actions.record_contact(episode=r.episode, on=dt.date(2026, 9, 20), outcome="attended", by=keyworker)
    actions.record_contact(episode=r.episode, on=dt.date(2026, 9, 5), outcome="attended", by=keyworker)
    assert Referral.objects.get(pk=r.pk).first_contact_on == dt.date(2026, 9, 5)


def test_people_still_waiting_past_the_standard_count_against_it(universe):
    actions.refer(
        patient=universe.alice,
        destination=universe.eip,
        reason="x",
        by=universe.m("gp_n1"),
        received_on=clock.today() - dt.timedelta(days=30),
    )
    (row,) = selectors.performance(by=universe.m("clinician_eip"))
    assert (row.stopped, row.within) == (1, 0)


def test_a_destination_that_takes_no_referrals_is_refused(universe):
    with pytest.raises(InvalidInput, match="does not take referrals"):
        actions.refer(patient=universe.alice, destination=universe.practice_n2, reason="x", by=universe.m("gp_n1"))


def test_a_community_service_cannot_drop_a_referral_by_withdrawing_it(universe):
    """ "Not for us" is a hand-over: a VCSE service redirects or records the person's own decline;
    withdrawing (no longer needed) is the referrer's call."""
    gp, vcse = universe.m("gp_n1"), universe.m("vcse_worker")
    r = actions.refer(patient=universe.alice, destination=universe.vcse, reason="Music", by=gp, consent_confirmed=True)
    assert not actions.may_withdraw(vcse, r) and actions.may_withdraw(gp, r)
    with pytest.raises(NotPermitted, match="hand the person over"):
        actions.withdraw(referral=r, version=r.version, reason="Group full, not for us", by=vcse)
    r.refresh_from_db()
    assert r.status == Status.RECEIVED
    page = client_as(vcse).get(reverse("referrals:detail", args=[universe.alice.public_id, r.pk])).content.decode()
    assert "Declined by the patient" in page and "Withdraw referral" not in page
    client_as(vcse).post(
        reverse("referrals:act", args=[universe.alice.public_id, r.pk, "withdraw"]), {"version": r.version, "note": "x"}
    )
    r.refresh_from_db()
    assert r.status == Status.RECEIVED
    gp_page = client_as(gp).get(reverse("referrals:detail", args=[universe.alice.public_id, r.pk])).content.decode()
    assert "Withdraw referral" in gp_page
    assert actions.withdraw(referral=r, version=r.version, reason="Moved away", by=gp).status == Status.WITHDRAWN
    # The service can still record the person's own decline.
    r2 = actions.refer(patient=universe.alice, destination=universe.vcse, reason="Art", by=gp, consent_confirmed=True)
    declined = actions.decline_by_patient(referral=r2, version=r2.version, reason="Does not want to go", by=vcse)
    assert declined.status == Status.DECLINED_BY_PATIENT
