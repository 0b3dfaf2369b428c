import datetime as dt

import numpy as np
import pyarrow.compute as pc
import pytest

from concerto.core import codelists, nhs_number
from concerto.core.errors import InvalidInput
from concerto.people.models import Patient, Registration, User
from concerto.records.models import ClinicalEvent, MedicationIssue
from concerto.synthetic.generator import SynthConfig, generate, valid_999_numbers, write_parquet
from concerto.synthetic.loader import load_extract
from concerto.synthetic.schema import SCHEMA

AS_OF = dt.date(2026, 11, 1)
PHC = [
    "phc_bmi_pcd2025",
    "phc_blood_pressure_pcd2025",
    "phc_lipids_pcd2025",
    "phc_glucose_hba1c_pcd2025",
    "phc_alcohol_pcd2025",
    "phc_smoking_pcd2025",
]


@pytest.fixture(scope="module")
def population():
    return generate(SynthConfig(patients=60_000, seed=7, as_of=AS_OF))


def test_same_seed_same_population():
    a = generate(SynthConfig(patients=3_000, seed=1, as_of=AS_OF))
    b = generate(SynthConfig(patients=3_000, seed=1, as_of=AS_OF))
    c = generate(SynthConfig(patients=3_000, seed=2, as_of=AS_OF))
    assert all(a[name].equals(b[name]) for name in a)
    assert not a["patients"].equals(c["patients"])


@pytest.mark.parametrize("patients", [1, 7, 60])
def test_tiny_populations_work(patients):
    tables = generate(SynthConfig(patients=patients, seed=5, as_of=AS_OF))
    assert tables["patients"].num_rows == patients


def test_tables_follow_the_extract_schema(population):
    for name, schema in SCHEMA.items():
        assert population[name].schema == schema, name


def test_nhs_numbers_are_unique_valid_and_from_the_999_range(population):
    numbers = population["patients"].column("nhs_number").to_pylist()
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("999") and nhs_number.is_valid(n) for n in numbers)


def test_the_999_range_holds_909091_valid_numbers():
    pool = valid_999_numbers()
    assert len(pool) == 909_091
    assert all(nhs_number.is_valid(str(n)) for n in pool[::10_000])


def _smi_patients(population) -> set[int]:
    events = population["clinical_events"]
    mh = pc.is_in(
        events.column("code").cast("string"),
        value_set=__import__("pyarrow").array(sorted(codelists.get("smi_mh_cod_pcd2025").code_set)),
    )
    return set(events.filter(mh).column("patient_id").to_pylist())


def test_smi_prevalence_is_about_one_percent_and_higher_where_deprivation_is_higher(population):
    smi = _smi_patients(population)
    patients = population["patients"]
    assert 0.008 <= len(smi) / patients.num_rows <= 0.011
    ids = np.array(patients.column("patient_id"))
    decile = np.array(patients.column("imd_decile"))
    on = np.isin(ids, list(smi))
    most, least = on[decile <= 3].mean(), on[decile >= 8].mean()
    assert most > 1.5 * least


def test_about_half_the_register_has_all_six_checks_in_the_last_year(population):
    smi = _smi_patients(population)
    events = population["clinical_events"].to_pydict()
    since = AS_OF - dt.timedelta(days=365)
    sets = [codelists.get(name).code_set for name in PHC]
    seen: dict[int, set[int]] = {}
    for pid, code, date in zip(events["patient_id"], events["code"], events["date"], strict=True):
        if pid in smi and date > since:
            for i, s in enumerate(sets):
                if code in s:
                    seen.setdefault(pid, set()).add(i)
    alive = set(
        pc.filter(
            population["patients"].column("patient_id"),
            pc.is_null(population["patients"].column("date_of_death")),
        ).to_pylist()
    )
    register = smi & alive
    complete = sum(len(seen.get(p, ())) == 6 for p in register) / len(register)
    assert 0.45 <= complete <= 0.65


def test_every_code_comes_from_a_shipped_code_list(population):
    snomed = set().union(*(cl.code_set for cl in codelists.all_codelists().values() if cl.system == "snomed-ct"))
    dmd = set().union(*(cl.code_set for cl in codelists.all_codelists().values() if cl.system == "dmd"))
    assert set(population["clinical_events"].column("code").unique().to_pylist()) <= snomed
    assert set(population["medications"].column("code").unique().to_pylist()) <= dmd


def test_some_people_get_antipsychotics_without_an_smi_diagnosis(population):
    smi = _smi_patients(population)
    on_meds = set(population["medications"].column("patient_id").to_pylist())
    assert len(on_meds - smi) > 0


def test_nothing_is_recorded_after_death_or_in_the_future(population):
    patients = population["patients"].to_pydict()
    death = dict(zip(patients["patient_id"], patients["date_of_death"], strict=True))
    for name in ("clinical_events", "medications"):
        t = population[name].to_pydict()
        for pid, date in zip(t["patient_id"], t["date"], strict=True):
            assert date <= AS_OF
            assert death[pid] is None or date <= death[pid]


def test_load_into_the_database_and_refuse_a_second_load(universe, tmp_path):
    already = Patient.objects.count()  # the universe's patients: loaded ids must not collide
    tables = generate(SynthConfig(patients=1_500, seed=3, as_of=AS_OF))
    write_parquet(tables, tmp_path)
    summary = load_extract(tmp_path)
    assert summary.patients == Patient.objects.count() - already == 1_500
    assert summary.registrations == Registration.objects.count() - already == tables["registrations"].num_rows
    assert ClinicalEvent.objects.count() == tables["clinical_events"].num_rows
    assert MedicationIssue.objects.count() == tables["medications"].num_rows
    assert summary.staff == tables["staff"].num_rows > 10
    assert Patient.objects.exclude(mobile_phone="").count() > 1_000
    assert Patient.objects.filter(address__contains="Demotown").count() == 1_500
    gp = User.objects.filter(username__endswith="-gp-1").first()
    assert gp is not None and not gp.has_usable_password()
    assert gp.memberships.get().role == "gp"
    assert (
        Registration.objects.filter(end__isnull=True).count()
        == Patient.objects.filter(date_of_death__isnull=True).count()
    )
    with pytest.raises(InvalidInput, match="1,500 of this extract's patients are already"):
        load_extract(tmp_path)
    assert Patient.objects.count() - already == 1_500
    # A patient registered after the load gets a fresh id, and loaded patients open by public id.
    from concerto.people.actions import register_patient
    from tests.fixtures import client_as, nhs_number

    newcomer = register_patient(
        nhs_number_text=nhs_number(4000),
        given_name="Nia",
        family_name="New",
        date_of_birth=dt.date(1999, 1, 1),
        sex="F",
        practice=universe.practice_n1,
        registered_on=dt.date(2026, 1, 1),
        by=universe.m("admin_n1"),
    )
    assert newcomer.pk > Patient.objects.exclude(pk=newcomer.pk).order_by("-pk").first().pk
    loaded = Patient.objects.filter(registrations__practice__code="Z90001", registrations__end__isnull=True).first()
    gp = User.objects.get(username="z90001-gp-1").memberships.get()
    from django.urls import reverse

    page = client_as(gp).get(reverse("patient-summary", args=[loaded.public_id]))
    assert page.status_code == 200 and loaded.formatted_nhs_number.encode() in page.content


def test_loader_refuses_invalid_nhs_numbers(db, tmp_path):
    import pyarrow as pa

    tables = generate(SynthConfig(patients=20, seed=3, as_of=AS_OF))
    patients = tables["patients"]
    bad = patients.column("nhs_number").to_pylist()
    bad[0] = bad[0][:9] + str((int(bad[0][9]) + 1) % 10)
    tables["patients"] = patients.set_column(1, "nhs_number", pa.array(bad))
    write_parquet(tables, tmp_path)
    with pytest.raises(InvalidInput, match="1 NHS numbers fail the modulus-11 check"):
        load_extract(tmp_path)
    assert not Patient.objects.exists()
