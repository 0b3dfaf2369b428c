"""Open Referral UK reading: schema and rule checks, each problem tied to its record; distances."""

import copy
import datetime as dt
import json
import math

import pytest

from concerto.directory import demo, geo, oruk


@pytest.fixture
def services():
    return copy.deepcopy(demo.document(today=dt.date(2026, 11, 1))["contents"])


def test_the_demo_directory_is_valid_oruk(services):
    records, problems = oruk.read(json.dumps(services))
    assert problems == []
    assert len(records) == len(demo.SERVICES)
    assert records[0].organisation_code == "VCS02"


def test_a_page_with_contents_and_a_bare_list_read_the_same(services):
    assert len(oruk.read(json.dumps({"contents": services}))[0]) == len(oruk.read(json.dumps(services))[0])


def test_each_bad_record_is_reported_with_its_position_and_name(services):
    services[1]["status"] = "open"  # not an ORUK status
    services[3]["schedules"][0]["byday"] = "XX"
    services[3]["schedules"][0]["closes_at"] = "09:00"
    services[5]["minimum_age"], services[5]["maximum_age"] = 40, 18
    del services[7]["name"]
    records, problems = oruk.read(json.dumps(services))
    by_record = {}
    for p in problems:
        by_record.setdefault(p.record, []).append(p.message)
    assert sorted(by_record) == [2, 4, 6, 8]
    assert "'open' is not one of" in by_record[2][0]
    assert any("byday 'XX' is not a day of the week" in m for m in by_record[4])
    assert any("closes_at 09:00 is not after opens_at" in m for m in by_record[4])
    assert by_record[6] == ["minimum_age (40) is above maximum_age (18)"]
    assert by_record[8] == ["'name' is a required property"]
    assert str(next(p for p in problems if p.record == 6)).startswith("Record 6, service 'Hearing Voices Peer Group'")
    assert len(records) == len(services) - 4


def test_ids_must_be_uuids_and_unique_in_the_file(services):
    services[0]["id"] = "not-a-uuid"
    services[2]["id"] = services[1]["id"]
    problems = oruk.read(json.dumps(services))[1]
    assert any(p.record == 1 and "is not a 'uuid'" in p.message for p in problems)
    assert any(p.record == 3 and "also record 2" in p.message for p in problems)


def test_terms_from_vocabularies_we_do_not_use_are_refused(services):
    services[0]["attributes"][0]["taxonomy_term"]["taxonomy"] = "esd-service-list"
    problems = oruk.read(json.dumps(services))[1]
    assert [p.record for p in problems] == [1]
    assert "not one we use" in problems[0].message


@pytest.mark.parametrize("text", ["", "{not json", '"a string"', '{"items": []}'])
def test_files_that_are_not_a_list_of_services_are_refused_whole(text):
    records, problems = oruk.read(text)
    assert records == []
    assert len(problems) == 1 and problems[0].record == 0


def test_haversine_matches_a_known_distance():
    # London (51.5074, -0.1278) to Paris (48.8566, 2.3522): about 343.5 km.
    assert geo.haversine_km((51.5074, -0.1278), (48.8566, 2.3522)) == pytest.approx(343.5, abs=1)
    assert geo.haversine_km((53.0, -1.5), (53.0, -1.5)) == 0


@pytest.mark.parametrize(
    ("postcode", "outward"), [("DM1 2AB", "DM1"), ("dm12ab", "DM1"), ("DM10 2AB", "DM10"), ("DM3", "DM3")]
)
def test_outward_codes(postcode, outward):
    assert geo.outward_code(postcode) == outward


def test_every_demo_district_has_a_centroid_and_unknown_ones_have_none():
    for n in range(1, 9):
        assert geo.centroid(f"DM{n} 1AA") is not None
    assert geo.centroid("ZZ9 9ZZ") is None
    assert math.isclose(geo.haversine_km(geo.centroid("DM1"), geo.centroid("DM8")), 4.46, abs_tol=0.05)


def test_opening_times_are_read_from_plain_lines_and_nonsense_is_refused():
    from concerto.directory.forms import ServiceForm

    base = {"name": "Group", "description": "A group", "status": "active"}
    form = ServiceForm({**base, "openings": "Tuesday 14:00-16:00\nthu 9:30 – 11:00\n"})
    assert form.is_valid(), form.errors
    assert [(o.weekday, o.opens_at, o.closes_at) for o in form.cleaned_data["openings"]] == [
        (1, dt.time(14, 0), dt.time(16, 0)),
        (3, dt.time(9, 30), dt.time(11, 0)),
    ]
    for bad in ("Someday 10:00-11:00", "Monday 25:00-26:00", "Monday at ten"):
        form = ServiceForm({**base, "openings": bad})
        assert not form.is_valid()
        assert "Could not read" in form.errors["openings"][0]
