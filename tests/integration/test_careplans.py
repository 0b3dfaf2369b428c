import contextlib
import datetime as dt
import re
import threading
import zlib

import pytest
from django.db import connection
from django.urls import reverse

from concerto.access.actions import add_to_care_team, record_consent
from concerto.access.models import AuditAction, AuditEvent
from concerto.careplans import actions, pdf, selectors
from concerto.careplans.models import ChangeRequest, Kind, PlanStatus, PlanVersion
from concerto.core import clock
from concerto.core.errors import InvalidInput, NotPermitted
from concerto.organisations.models import OrganisationKind
from tests.fixtures import client_as

CARE = {
    "what_matters": "Seeing my daughter every Sunday.",
    "needs": "Help with sleep and with getting out.",
    "goals": [{"goal": "Walk to the park on my own", "baseline": 2, "current": 4}],
    "actions": [
        {
            "what": "Weekly walk together",
            "organisation": "North CMHT",
            "person": "Kim",
            "by_when": None,
            "status": "in_progress",
        }
    ],
    "medication_notes": "Sertraline 50 mg.",
    "contacts": [{"name": "Sam", "relationship": "Brother", "phone": "07700900111"}],
}
CRISIS = {
    "early_warning_signs": "Stops eating; stays in bed.",
    "what_helps": "A call from Sam.",
    "what_to_avoid": "Loud places.",
    "contacts": [{"name": "Kim", "role": "Key worker", "phone": "01632 960 100", "hours": "9 to 5 weekdays"}],
    "advance_statements": "",
}


def _save(universe, based_on=0, content=None, who="gp_n1", kind=Kind.CARE, patient=None):
    return actions.save_plan(
        patient=patient or universe.alice,
        kind=kind,
        based_on=based_on,
        content=dict(content or CARE),
        by=universe.m(who),
    )


def _posted(kind=Kind.CARE, rows=None, **fields):
    """What the plan editor posts: its fields and each list's rows with their management form."""
    from concerto.careplans.forms import LISTS

    data = {k: str(v) for k, v in fields.items()}
    for prefix, _ in LISTS[kind]:
        listed = (rows or {}).get(prefix, [])
        data |= {f"{prefix}-TOTAL_FORMS": str(len(listed)), f"{prefix}-INITIAL_FORMS": "0"}
        for i, row in enumerate(listed):
            data |= {f"{prefix}-{i}-{k}": str(v) for k, v in row.items()}
    return data


# Versions: every save is a new, immutable version.


def test_each_save_makes_a_new_version_and_keeps_the_old_ones(universe):
    first = _save(universe)
    second = _save(universe, based_on=1, content={**CARE, "what_matters": "Seeing my daughter and my friends."})
    assert (first.number, second.number) == (1, 2)
    assert [v.number for v in selectors.plan_versions(universe.alice, by=universe.m("gp_n1"))] == [2, 1]
    first.refresh_from_db()
    assert first.content["what_matters"] == "Seeing my daughter every Sunday."
    assert selectors.current_plan(universe.alice, by=universe.m("gp_n1")) == second
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.what, event.detail["version"]) == (AuditAction.CREATE, "care_plan", 2)


def test_versions_cannot_be_changed_or_deleted(universe):
    version = _save(universe)
    version.content = {"what_matters": "rewritten"}
    with pytest.raises(PermissionError):
        version.save()
    with pytest.raises(PermissionError):
        version.delete()
    with pytest.raises(PermissionError):
        PlanVersion.objects.filter(pk=version.pk).update(content={})
    with pytest.raises(PermissionError):
        PlanVersion.objects.all().delete()


# No lost updates.


def test_a_stale_save_gets_a_conflict_naming_the_newer_version_and_writes_nothing(universe):
    _save(universe)
    _save(universe, based_on=1, content={**CARE, "needs": "Kim's edit"}, who="mhp_north")
    with pytest.raises(actions.Conflict) as raised:
        _save(universe, based_on=1, content={**CARE, "needs": "GP's edit"})
    assert raised.value.latest.number == 2
    assert raised.value.latest.content["needs"] == "Kim's edit"
    assert "version 2" in str(raised.value)
    assert PlanVersion.objects.count() == 2


def test_the_conflict_page_keeps_both_peoples_work_side_by_side(universe):
    _save(universe)
    gp = client_as(universe.m("gp_n1"))
    editor = gp.get(reverse("careplans:care-edit", args=[universe.alice.public_id]))
    assert b'name="based_on" value="1"' in editor.content
    # Someone else saves first …
    _save(universe, based_on=1, content={**CARE, "what_matters": "THEIR WORDS about Sunday visits"}, who="mhp_north")
    # … then the GP saves the form they opened at version 1.
    form = _posted(based_on=1, what_matters="MY WORDS about the allotment")
    response = gp.post(reverse("careplans:care-edit", args=[universe.alice.public_id]), form)
    assert response.status_code == 409
    page = response.content.decode()
    assert "saved a newer version of this plan (version 2)" in page
    theirs = page.split('data-testid="their-version"')[1].split('data-testid="your-version"')[0]
    mine = page.split('data-testid="your-version"')[1]
    assert "THEIR WORDS about Sunday visits" in theirs
    assert "MY WORDS about the allotment" in mine
    assert 'name="based_on" value="2"' in mine  # saving again builds on their version, deliberately
    assert PlanVersion.objects.count() == 2
    # Saving again from the conflict page works and keeps theirs as version 2.
    response = gp.post(reverse("careplans:care-edit", args=[universe.alice.public_id]), form | {"based_on": "2"})
    assert response.status_code == 302
    assert [v.content["what_matters"] for v in PlanVersion.objects.order_by("number")] == [
        CARE["what_matters"],
        "THEIR WORDS about Sunday visits",
        "MY WORDS about the allotment",
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_saving_at_once_exactly_one_wins():
    from tests.fixtures import Universe

    u = Universe()
    base = actions.save_plan(patient=u.alice, kind=Kind.CARE, based_on=0, content=dict(CARE), by=u.m("gp_n1"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(member, words):
        try:
            barrier.wait(timeout=10)
            actions.save_plan(
                patient=u.alice,
                kind=Kind.CARE,
                based_on=base.number,
                content={**CARE, "what_matters": words},
                by=member,
            )
            outcomes.append("won")
        except actions.Conflict as conflict:
            outcomes.append(f"conflict:{conflict.latest.number}")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(u.m("gp_n1"), "from the GP")),
        threading.Thread(target=save, args=(u.m("mhp_north"), "from the PCN practitioner")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["conflict:2", "won"]
    versions = list(PlanVersion.objects.filter(patient=u.alice).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[1].content["what_matters"] in ("from the GP", "from the PCN practitioner")


# Difference view.


def test_plan_diff_shows_what_changed_section_by_section(universe):
    a = _save(universe)
    changed = {
        **CARE,
        "goals": [{"goal": "Walk to the park on my own", "baseline": 2, "current": 7}],
        "medication_notes": "Sertraline 100 mg.",
    }
    b = _save(universe, based_on=1, content=changed)
    diff = {s.label: s for s in selectors.plan_diff(a, b)}
    assert not diff["What matters to me"].changed
    assert diff["My goals"].changed
    assert ("removed", "Walk to the park on my own (baseline 2/10, now 4/10)") in diff["My goals"].lines
    assert ("added", "Walk to the park on my own (baseline 2/10, now 7/10)") in diff["My goals"].lines
    assert diff["Medication"].lines == [("removed", "Sertraline 50 mg."), ("added", "Sertraline 100 mg.")]
    page = client_as(universe.m("gp_n1")).get(
        reverse("careplans:care-compare", args=[universe.alice.public_id]) + "?a=1&b=2"
    )
    assert page.status_code == 200
    assert b"<del>Sertraline 50 mg.</del>" in page.content and b"<ins>Sertraline 100 mg.</ins>" in page.content


def test_only_versions_of_the_same_plan_compare(universe):
    care = _save(universe)
    crisis = _save(universe, kind=Kind.CRISIS, content=CRISIS)
    with pytest.raises(ValueError):
        selectors.plan_diff(care, crisis)


# Agreement and the stale-plan hazard (H20).


def test_agreement_records_who_when_and_how_as_a_new_version(universe):
    _save(universe)
    agreed = actions.agree_plan(
        patient=universe.alice,
        kind=Kind.CARE,
        based_on=1,
        agreed_with="Alice Ashworth",
        agreed_on=clock.today(),
        how="in_person",
        by=universe.m("gp_n1"),
    )
    assert (agreed.number, agreed.status, agreed.agreed_with, agreed.agreed_how) == (
        2,
        PlanStatus.AGREED,
        "Alice Ashworth",
        "in_person",
    )
    assert agreed.content == PlanVersion.objects.get(number=1).content
    with pytest.raises(InvalidInput):
        actions.agree_plan(
            patient=universe.alice,
            kind=Kind.CARE,
            based_on=2,
            agreed_with="Alice",
            agreed_on=clock.today(),
            how="in_person",
            by=universe.m("gp_n1"),
        )


def test_agreeing_a_version_someone_has_since_changed_is_a_conflict(universe):
    _save(universe)
    _save(universe, based_on=1, content={**CARE, "needs": "changed after the meeting"}, who="mhp_north")
    with pytest.raises(actions.Conflict):
        actions.agree_plan(
            patient=universe.alice,
            kind=Kind.CARE,
            based_on=1,
            agreed_with="Alice",
            agreed_on=clock.today(),
            how="phone",
            by=universe.m("gp_n1"),
        )
    assert not PlanVersion.objects.filter(status=PlanStatus.AGREED).exists()


def test_the_plan_page_shows_the_latest_version_and_says_it_is_not_yet_agreed(universe):
    _save(universe)
    actions.agree_plan(
        patient=universe.alice,
        kind=Kind.CARE,
        based_on=1,
        agreed_with="Alice",
        agreed_on=clock.today(),
        how="video",
        by=universe.m("gp_n1"),
    )
    _save(universe, based_on=2, content={**CARE, "what_matters": "A NEWER DRAFT"}, who="mhp_north")
    page = client_as(universe.m("gp_n1")).get(reverse("careplans:care", args=[universe.alice.public_id]))
    text = page.content.decode()
    assert "A NEWER DRAFT" in text and "Seeing my daughter every Sunday." not in text
    assert "Version 3" in text and "Draft" in text
    assert "The last version agreed with the patient is" in text and "?a=2&amp;b=3" in text
    # An older version says it is not the current plan and links to it.
    old = client_as(universe.m("gp_n1")).get(reverse("careplans:care-version", args=[universe.alice.public_id, 1]))
    assert b"This is not the current plan" in old.content


def test_a_plan_past_its_review_date_is_flagged(universe):
    content = {**CARE, "review_date": (clock.today() + dt.timedelta(days=1)).isoformat()}
    version = _save(universe, content=content)
    assert not selectors.review_overdue(version)
    assert selectors.review_overdue(version, today=clock.today() + dt.timedelta(days=2))
    past = PlanVersion.objects.get(pk=version.pk)
    past.content["review_date"] = (clock.today() - dt.timedelta(days=1)).isoformat()
    assert selectors.review_overdue(past)


def test_a_review_date_in_the_past_is_refused_by_the_editor(universe):
    from concerto.careplans.forms import PlanEditor

    editor = PlanEditor(Kind.CARE, data=_posted(review_date=clock.today() - dt.timedelta(days=1)))
    assert not editor.is_valid()
    assert "review date must be today or later" in str(editor.main.errors)


# Crisis contacts (hazard H21).


def test_crisis_contacts_need_a_valid_uk_number_and_hours(universe):
    bad_number = {**CRISIS, "contacts": [{"name": "Kim", "phone": "12345", "hours": "any time"}]}
    with pytest.raises(InvalidInput, match="Kim"):
        _save(universe, kind=Kind.CRISIS, content=bad_number)
    no_hours = {**CRISIS, "contacts": [{"name": "Kim", "phone": "01632960100", "hours": ""}]}
    with pytest.raises(InvalidInput, match="hours"):
        _save(universe, kind=Kind.CRISIS, content=no_hours)
    assert not PlanVersion.objects.exists()
    saved = _save(universe, kind=Kind.CRISIS, content=CRISIS)
    assert saved.content["contacts"][0]["phone"] == "01632960100"


def test_the_crisis_editor_explains_a_wrong_phone_number(universe):
    data = _posted(
        Kind.CRISIS, {"contacts": [{"name": "Kim", "phone": "+1 212 555 0100", "hours": "Any time"}]}, based_on=0
    )
    response = client_as(universe.m("gp_n1")).post(
        reverse("careplans:crisis-edit", args=[universe.alice.public_id]), data
    )
    assert response.status_code == 400
    assert b"A phone number can only contain digits, spaces and a leading +44." in response.content
    assert not PlanVersion.objects.exists()


def test_national_crisis_lines_are_always_shown_even_with_no_plan_or_contacts(universe):
    gp = client_as(universe.m("gp_n1"))
    empty = gp.get(reverse("careplans:crisis", args=[universe.alice.public_id])).content.decode()
    assert "NHS 111, then option 2" in empty and "999" in empty
    _save(universe, kind=Kind.CRISIS, content={**CRISIS, "contacts": []})
    page = gp.get(reverse("careplans:crisis", args=[universe.alice.public_id])).content.decode()
    assert page.count('data-testid="national-fallback"') == 3
    assert 'href="tel:111"' in page and 'href="tel:999"' in page
    for_patient = selectors.crisis_plan_for_patient(universe.alice)
    assert [f["phone"] for f in for_patient.fallbacks] == ["111", "999", "116 123"]


# Sharing follows the access policy and consent.


@pytest.mark.parametrize(
    "member,can_view,can_edit",
    [
        ("gp_n1", True, True),
        ("nurse_n1", True, True),
        ("mhp_north", True, True),
        ("admin_n1", False, False),  # demographics only
        ("gp_s1", False, False),  # no relationship
        ("linkworker_north", False, False),
        ("analyst", False, False),
    ],
)
def test_who_reads_and_edits_plans(universe, member, can_view, can_edit):
    _save(universe)
    client = client_as(universe.m(member))
    assert client.get(reverse("careplans:care", args=[universe.alice.public_id])).status_code == (
        200 if can_view else 404
    )
    assert client.get(reverse("careplans:care-edit", args=[universe.alice.public_id])).status_code == (
        200 if can_edit else 404
    )


def test_council_and_vcse_see_plans_only_with_consent_and_vcse_cannot_edit(universe):
    _save(universe)
    gp = universe.m("gp_n1")
    for org in (universe.council, universe.vcse):
        add_to_care_team(patient=universe.alice, organisation=org, role_in_care="support", start=clock.today(), by=gp)
    social, vcse = universe.m("socialworker"), universe.m("vcse_worker")
    for member in (social, vcse):
        with pytest.raises(NotPermitted):
            selectors.current_plan(universe.alice, by=member)
    record_consent(patient=universe.alice, organisation_kind=OrganisationKind.LOCAL_AUTHORITY, granted=True, by=gp)
    record_consent(patient=universe.alice, organisation_kind=OrganisationKind.VCSE, granted=True, by=gp)
    assert selectors.current_plan(universe.alice, by=social).number == 1
    assert selectors.current_plan(universe.alice, by=vcse).number == 1
    assert _save(universe, based_on=1, who="socialworker").number == 2
    with pytest.raises(NotPermitted):
        _save(universe, based_on=2, who="vcse_worker")
    denied = AuditEvent.objects.latest("id")
    assert (denied.action, denied.membership_id) == (AuditAction.DENIED, vcse.pk)
    assert client_as(vcse).get(reverse("careplans:care-edit", args=[universe.alice.public_id])).status_code == 404


def test_a_dissent_from_mental_health_services_hides_the_plan_from_the_team(universe):
    gp = universe.m("gp_n1")
    add_to_care_team(
        patient=universe.alice, organisation=universe.cmht, role_in_care="CMHT", start=clock.today(), by=gp
    )
    _save(universe)
    assert selectors.current_plan(universe.alice, by=universe.m("keyworker_cmht")) is not None
    record_consent(patient=universe.alice, organisation_kind=OrganisationKind.MH_TEAM, granted=False, by=gp)
    with pytest.raises(NotPermitted):
        selectors.current_plan(universe.alice, by=universe.m("keyworker_cmht"))


# The patient's own view and requests (for the portal).


def test_the_patient_sees_the_agreed_version_and_a_newer_draft_marked_as_draft(universe):
    assert selectors.current_plan_for_patient(universe.alice).latest is None
    _save(universe)
    only_draft = selectors.current_plan_for_patient(universe.alice)
    assert (only_draft.agreed, only_draft.draft.number) == (None, 1)
    actions.agree_plan(
        patient=universe.alice,
        kind=Kind.CARE,
        based_on=1,
        agreed_with="Alice",
        agreed_on=clock.today(),
        how="portal",
        by=universe.m("gp_n1"),
    )
    agreed = selectors.current_plan_for_patient(universe.alice)
    assert (agreed.agreed.number, agreed.draft) == (2, None)
    _save(universe, based_on=2, content={**CARE, "needs": "newer"})
    both = selectors.current_plan_for_patient(universe.alice)
    assert (both.agreed.number, both.draft.number, both.latest.number) == (2, 3, 3)
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.what, event.role, event.patient_id, event.membership_id) == (
        AuditAction.VIEW,
        "care_plan",
        "patient",
        universe.alice.pk,
        None,
    )


def test_a_patients_change_request_is_audited_as_the_patient_and_shown_to_the_team(universe):
    _save(universe)
    request = actions.request_plan_change(patient=universe.alice, text="Please add my new phone number.")
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.what, event.role, event.username, event.patient_id) == (
        AuditAction.CREATE,
        "plan_change_request",
        "patient",
        "patient",
        universe.alice.pk,
    )
    gp = client_as(universe.m("gp_n1"))
    page = gp.get(reverse("careplans:care", args=[universe.alice.public_id]))
    assert b"Please add my new phone number." in page.content
    gp.post(
        reverse("careplans:care-resolve", args=[universe.alice.public_id, request.pk]), {"resolution": "Added to v2"}
    )
    request.refresh_from_db()
    assert request.resolved_by == universe.m("gp_n1") and request.resolution == "Added to v2"
    assert (
        b"Please add my new phone number."
        not in gp.get(reverse("careplans:care", args=[universe.alice.public_id])).content
    )
    with pytest.raises(InvalidInput):
        actions.request_plan_change(patient=universe.alice, text="  ")
    assert ChangeRequest.objects.count() == 1


# Editing through the page, DIALOG and the physical health register.


def test_editing_through_the_page_saves_a_draft_with_its_lists(universe):
    rows = {
        "goals": [
            {"goal": "Three shifts a week", "baseline": 3, "current": ""},
            {"goal": ""},
        ],  # a blank row is ignored
        "actions": [{"what": "IPS appointment", "organisation": "North CMHT", "status": "not_started"}],
    }
    data = _posted(
        rows=rows,
        based_on=0,
        what_matters="Getting back to work",
        review_date=clock.today() + dt.timedelta(days=60),
        change_note="First plan",
    )
    response = client_as(universe.m("gp_n1")).post(
        reverse("careplans:care-edit", args=[universe.alice.public_id]), data
    )
    assert response.status_code == 302
    version = PlanVersion.objects.get()
    assert version.content["goals"] == [{"goal": "Three shifts a week", "baseline": 3, "current": None}]
    assert version.content["actions"][0]["organisation"] == "North CMHT"
    assert version.change_note == "First plan" and version.status == PlanStatus.DRAFT


def test_an_action_must_say_who(universe):
    from concerto.careplans.forms import ActionForm

    form = ActionForm({"what": "Call the housing office", "status": "not_started"})
    assert not form.is_valid()
    assert "Say who will do this" in str(form.errors)


def test_the_latest_dialog_answers_are_saved_with_the_care_plan_and_shown(universe):
    from concerto.outcomes.actions import record_response

    gp = universe.m("gp_n1")
    without = _save(universe)
    assert "dialog" not in without.content
    ratings = [4, 5, 3, 6, 2, 7, 4, 5, 6, 5, 7]
    answers = {str(n): r for n, r in enumerate(ratings, start=1)} | {f"{n}-help": n in {3, 5} for n in range(1, 12)}
    record_response(patient=universe.alice, questionnaire="dialog", answers=answers, by=gp)
    editor = client_as(gp).get(reverse("careplans:care-edit", args=[universe.alice.public_id])).content.decode()
    wanted = editor.split('data-testid="dialog-latest"')[1].split("</div>")[0]
    assert wanted.count("<strong>") == 2  # the two areas where more help is wanted
    version = _save(universe, based_on=1)
    dialog = version.content["dialog"]
    assert [d["score"] for d in dialog["domains"]] == ratings
    assert [d["wants_help"] for d in dialog["domains"]] == [n in {3, 5} for n in range(1, 12)]
    assert dialog["completed"] == clock.today().isoformat()
    page = client_as(gp).get(reverse("careplans:care", args=[universe.alice.public_id]))
    assert b'data-testid="dialog-needs"' in page.content
    # A role without the clinical record writes the plan without them (and no refusal is audited).
    assert selectors.dialog_needs(universe.alice, by=universe.m("vcse_worker")) is None


def test_open_physical_health_follow_ups_are_offered_as_actions(make, universe):
    schizophrenia, bmi = "58214004", "60621009"
    patient = make((schizophrenia, dt.date(2015, 1, 1)), (bmi, clock.today() - dt.timedelta(days=30), 42))
    suggestions = selectors.physical_health_suggestions(patient, by=universe.m("nurse_n1"))
    assert any("(after" in s for s in suggestions), suggestions  # the high BMI's follow-up
    assert any(s.startswith("Physical health check:") for s in suggestions)  # elements never done
    assert not any("bmi" in s.lower() and s.startswith("Physical health check:") for s in suggestions)
    page = client_as(universe.m("nurse_n1")).get(reverse("careplans:care-edit", args=[patient.public_id]))
    assert b'data-testid="physical-health-suggestions"' in page.content
    assert selectors.physical_health_suggestions(patient, by=universe.m("vcse_worker")) == []  # no clinical record


# Print.


def _pdf_text(data: bytes) -> bytes:
    """The PDF with its compressed streams inflated, to look for structure and metadata."""
    out = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        with contextlib.suppress(zlib.error):  # not every stream is compressed
            out.append(zlib.decompress(match.group(1)))
    return b"\n".join(out)


def test_the_plan_prints_as_a_tagged_pdf_with_its_content_and_a_large_print_option(universe):
    _save(universe, kind=Kind.CRISIS, content=CRISIS)
    gp = client_as(universe.m("gp_n1"))
    response = gp.get(reverse("careplans:crisis-print", args=[universe.alice.public_id]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    inside = _pdf_text(response.content)
    assert b"/StructTreeRoot" in inside and b"/MarkInfo" in inside  # tagged for screen readers
    assert b"pdfuaid" in inside  # declared PDF/UA-1
    assert b"/Lang (en-GB)" in inside
    # Headings become the PDF's outline: the named contact and the national lines are there.
    assert b"Kim" in inside and b"NHS 111, then option 2" in inside
    large = gp.get(reverse("careplans:crisis-print", args=[universe.alice.public_id]) + "?size=large")
    assert large.status_code == 200 and large.content.startswith(b"%PDF-")
    html = pdf.render_html(PlanVersion.objects.get(), large_print=True)
    assert "font-size: 18pt" in html and "Stops eating; stays in bed." in html
    assert "Draft: not yet agreed with you." in html
    assert "01632 960100" in html


def test_printing_a_missing_plan_answers_404(universe):
    response = client_as(universe.m("gp_n1")).get(reverse("careplans:care-print", args=[universe.alice.public_id]))
    assert response.status_code == 404


def test_agreement_is_recorded_through_the_plan_page(universe):
    _save(universe)
    gp = client_as(universe.m("gp_n1"))
    page = gp.get(reverse("careplans:care", args=[universe.alice.public_id]))
    assert b'data-testid="agreement-form"' in page.content
    url = reverse("careplans:care-agree", args=[universe.alice.public_id])
    refused = gp.post(url, {"version": "1", "agreed_with": "", "agreed_on": clock.today().isoformat(), "how": "phone"})
    assert refused.status_code == 302 and not PlanVersion.objects.filter(status=PlanStatus.AGREED).exists()
    gp.post(url, {"version": "1", "agreed_with": "Alice", "agreed_on": clock.today().isoformat(), "how": "phone"})
    agreed = PlanVersion.objects.get(status=PlanStatus.AGREED)
    assert (agreed.number, agreed.agreed_with, agreed.agreed_how, agreed.saved_by) == (
        2,
        "Alice",
        "phone",
        universe.m("gp_n1"),
    )
    page = gp.get(reverse("careplans:care", args=[universe.alice.public_id]))
    assert b'data-testid="agreement-form"' not in page.content and b"Agreed</strong> with Alice" in page.content


def test_the_patient_summary_links_to_the_plans_for_roles_that_may_read_them(universe):
    summary = reverse("patient-summary", args=[universe.alice.public_id])
    assert b'data-testid="care-plan-section"' in client_as(universe.m("gp_n1")).get(summary).content
    assert b'data-testid="care-plan-section"' not in client_as(universe.m("admin_n1")).get(summary).content


def test_dialog_answers_newer_than_the_plan_are_pointed_out(universe):
    from concerto.outcomes.actions import record_response

    gp = universe.m("gp_n1")
    answers = {str(n): 4 for n in range(1, 12)} | {f"{n}-help": n == 1 for n in range(1, 12)}
    record_response(
        patient=universe.alice,
        questionnaire="dialog",
        answers=answers,
        by=gp,
        completed_on=clock.today() - dt.timedelta(days=30),
    )
    _save(universe)  # written from last month's answers
    url = reverse("careplans:care", args=[universe.alice.public_id])
    assert b'data-testid="newer-dialog"' not in client_as(gp).get(url).content
    record_response(patient=universe.alice, questionnaire="dialog", answers=answers, by=gp)
    assert b'data-testid="newer-dialog"' in client_as(gp).get(url).content
    _save(universe, based_on=1)  # the new version takes today's answers
    assert b'data-testid="newer-dialog"' not in client_as(gp).get(url).content


def test_agreement_cannot_predate_the_version_it_agrees(universe):
    draft = _save(universe)
    with pytest.raises(InvalidInput, match="cannot have been agreed earlier"):
        actions.agree_plan(
            patient=universe.alice,
            kind=Kind.CARE,
            based_on=draft.number,
            agreed_with="Alice",
            agreed_on=clock.today() - dt.timedelta(days=3650),
            how="in_person",
            by=universe.m("gp_n1"),
        )
    assert PlanVersion.objects.filter(patient=universe.alice).count() == 1


def test_dialog_ratings_are_shown_only_to_roles_with_the_clinical_record(universe):
    """A VCSE worker with consent reads the plan, and sees where the person wants more help, but not
    their DIALOG ratings (questionnaire results are clinical record)."""
    from concerto.outcomes import actions as outcomes

    answers = {}
    for n in range(1, 12):
        answers[str(n)] = 2 if n == 1 else 6
        answers[f"{n}-help"] = n == 1
    outcomes.record_response(patient=universe.alice, questionnaire="dialog", answers=answers, by=universe.m("gp_n1"))
    first = _save(universe)
    _save(universe, based_on=first.number, content={**CARE, "needs": "More help with sleep."})
    add_to_care_team(patient=universe.alice, organisation=universe.vcse, by=universe.m("gp_n1"))
    record_consent(
        patient=universe.alice, organisation_kind=OrganisationKind.VCSE, granted=True, by=universe.m("gp_n1")
    )
    plan_url = reverse("careplans:care", args=[universe.alice.public_id])
    vcse_page = client_as(universe.m("vcse_worker")).get(plan_url).content.decode()
    gp_page = client_as(universe.m("gp_n1")).get(plan_url).content.decode()
    assert 'data-testid="dialog-needs"' in gp_page and 'data-testid="dialog-needs"' not in vcse_page
    assert 'data-testid="dialog-wants-help-only"' in vcse_page and "Mental health" in vcse_page
    compare = reverse("careplans:care-compare", args=[universe.alice.public_id]) + "?a=1&b=2"
    rating = "Mental health: 2/7"  # how a comparison line shows a DIALOG rating
    assert rating not in client_as(universe.m("vcse_worker")).get(compare).content.decode()

    def dialog_lines(show_scores):
        diff = selectors.plan_diff(first, first, show_scores=show_scores)
        return [text for section in diff if section.label == "Needs from DIALOG" for _, text in section.lines]

    assert "Mental health: 2/7 – wants more help" in dialog_lines(True)
    assert dialog_lines(False) == ["Mental health – wants more help"]
    vcse_pdf = pdf.render_html(first, show_scores=False)
    assert "Mental health" in vcse_pdf and "totally dissatisfied" not in vcse_pdf
