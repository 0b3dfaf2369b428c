"""Deterministic synthetic population for an ICB, written in the extract schema.

Everything is vectorised with NumPy: one random generator seeded from `SynthConfig.seed`, no
per-patient Python loops, so a million patients take seconds. The same seed and `as_of` date give
the same tables, byte for byte. Codes come from the shipped code lists (`concerto.core.codelists`).

Rough epidemiology it follows (England):
- age and sex from the registered population pyramid; ONS 2021 ethnicity shares;
- IMD decile by LSOA, each practice serving a neighbourhood of mixed deprivation;
- SMI (MH_COD) in about 0.95% of all patients, rising with deprivation and in Black groups;
  ~8% with a later remission code, some relapsing; some bipolar patients on lithium;
- the six physical health check elements with realistic values; about 50–60% of the register
  has all six in the last 12 months;
- antipsychotics for most people with SMI, and for a few people with no SMI diagnosis (the
  case-finding population), lithium for a few without a diagnosis too.

NHS numbers come only from the never-issued 999 range, and all pass the modulus-11 check. That
range holds 909,091 valid numbers: patients beyond it (only in very large benchmark populations)
carry a pseudonymous `patient_id` and no NHS number, as pseudonymised analytic extracts do.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from django.utils import timezone

from concerto.core import codelists
from concerto.synthetic import names
from concerto.synthetic.schema import SCHEMA

Progress = Callable[[str], None]
DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class SynthConfig:
    patients: int = 40_000
    seed: int = 20261123
    as_of: dt.date = field(default_factory=timezone.localdate)
    practices: int | None = None  # default: one per ~5,000 patients
    pcns: int | None = None  # default: one per 4 practices
    icb_code: str = "QZZ"
    icb_name: str = "Demo Integrated Care Board"

    @property
    def n_practices(self) -> int:
        return self.practices or max(1, round(self.patients / 5_000))

    @property
    def n_pcns(self) -> int:
        return self.pcns or max(1, math.ceil(self.n_practices / 4))


# --- reference shares -------------------------------------------------------------------------

# Registered population by 5-year age band 0–4 … 95–99 (England, GP registrations, rounded %).
AGE_BAND_SHARE = np.array(
    [5.3, 5.9, 6.1, 5.9, 5.8, 6.9, 7.3, 7.0, 6.7, 6.2, 6.6, 6.6, 6.0, 5.1, 4.6, 3.9, 2.5, 1.5, 0.7, 0.2]
)
# ONS 2021 ethnic categories (England), same order as people.models.Ethnicity, then "Z" not stated.
ETHNICITY_CODES = np.array(
    [
        "A_BAN",
        "A_CHI",
        "A_IND",
        "A_PAK",
        "A_OTH",
        "B_AFR",
        "B_CAR",
        "B_OTH",
        "M_WAS",
        "M_WBA",
        "M_WBC",
        "M_OTH",
        "W_BRI",
        "W_IRI",
        "W_GYP",
        "W_ROM",
        "W_OTH",
        "O_ARA",
        "O_OTH",
        "Z",
    ]
)
ETHNICITY_SHARE = np.array(
    [
        1.1,
        0.7,
        3.1,
        2.7,
        1.6,
        2.5,
        1.0,
        0.5,
        0.8,
        0.4,
        0.9,
        0.7,
        73.5,
        0.9,
        0.1,
        0.2,
        6.2,
        0.6,
        1.6,
        5.0,
    ]
)
GROUP_OF = {"A": "asian", "B": "black", "M": "mixed", "W": "white", "O": "other", "Z": "not_stated"}

STREETS = [
    "High Street",
    "Park Road",
    "Station Road",
    "Church Lane",
    "Mill Lane",
    "Victoria Road",
    "The Green",
    "Queens Road",
    "Market Place",
    "Bridge Street",
]

UNITS = {"bmi": "kg/m2", "bp": "mmHg", "cholesterol": "mmol/L", "hba1c": "mmol/mol", "alcohol": "U/week"}


@dataclass(frozen=True)
class Codes:
    """The specific codes the generator records, all drawn from the shipped code lists."""

    schizophrenia: np.ndarray
    bipolar: np.ndarray
    other_psychosis: np.ndarray
    remission: np.ndarray
    bmi: str
    systolic: str
    diastolic: str
    cholesterol: str
    hba1c: str
    alcohol_units: str
    current_smoker: np.ndarray
    ex_smoker: np.ndarray
    never_smoker: np.ndarray
    lithium_stopped: str
    care_plan: str
    first_letter: str
    second_letter: str
    informed_dissent: str
    sga: np.ndarray
    fga: np.ndarray
    depot: np.ndarray
    lithium: np.ndarray

    @classmethod
    def from_codelists(cls) -> Codes:
        mh = codelists.get("smi_mh_cod_pcd2025")
        rem = codelists.get("smi_mhrem_cod_pcd2025")
        split = codelists.get("smi_schizophrenia_bipolar_split_bhf_ccu046")
        active = [c for c in mh.codes if c.code not in rem]
        label = {c.code: c.cluster for c in split.codes}

        def of(kind: str) -> np.ndarray:
            return np.array(sorted(c.code for c in active if label.get(c.code) == kind))

        def vmps(name: str) -> np.ndarray:
            return np.array(
                sorted(
                    c.code
                    for c in codelists.get(name).codes
                    if c.cluster in {"SGA", "FGA", "LAI/depot"} or name.startswith("lithium")
                )
            )

        smoking = codelists.get("phc_smoking_pcd2025")
        codes = cls(
            schizophrenia=of("schizophrenia"),
            bipolar=of("bipolar"),
            other_psychosis=np.array(sorted(c.code for c in active if c.code not in label)),
            remission=np.array(sorted(rem.code_set)),
            bmi="60621009",
            systolic="271649006",
            diastolic="1091811000000102",
            cholesterol="1005671000000105",
            hba1c="999791000000106",
            alcohol_units="1082641000000106",
            current_smoker=np.array([c.code for c in smoking.cluster("LSMOK_COD")]),
            ex_smoker=np.array([c.code for c in smoking.cluster("EXSMOK_COD")]),
            never_smoker=np.array([c.code for c in smoking.cluster("NSMOK_COD")]),
            lithium_stopped="170688000",
            care_plan=next(c.code for c in codelists.get("smi_review_careplan_exceptions_pcd2025").cluster("MHP_COD")),
            first_letter="414668005",
            second_letter="414670001",
            informed_dissent="717051000000101",
            sga=vmps("antipsychotics_second_gen_oral_dmd"),
            fga=vmps("antipsychotics_first_gen_oral_dmd"),
            depot=vmps("antipsychotics_depot_lai_dmd"),
            lithium=vmps("lithium_dmd_gmsde"),
        )
        # Every fixed code must really be in its list: fail here rather than write unknown codes.
        for code, listname in [
            (codes.bmi, "phc_bmi_pcd2025"),
            (codes.systolic, "phc_bp_systolic_diastolic_qof_opensafely"),
            (codes.diastolic, "phc_bp_systolic_diastolic_qof_opensafely"),
            (codes.cholesterol, "phc_lipids_pcd2025"),
            (codes.hba1c, "phc_glucose_hba1c_pcd2025"),
            (codes.alcohol_units, "phc_alcohol_pcd2025"),
            (codes.lithium_stopped, "smi_review_careplan_exceptions_pcd2025"),
            (codes.first_letter, "smi_review_careplan_exceptions_pcd2025"),
            (codes.second_letter, "smi_review_careplan_exceptions_pcd2025"),
            (codes.informed_dissent, "smi_review_careplan_exceptions_pcd2025"),
        ]:
            if code not in codelists.get(listname):
                raise ValueError(f"synthetic generator code {code} is not in code list {listname}")
        return codes


# --- NHS numbers ------------------------------------------------------------------------------


def valid_999_numbers() -> np.ndarray:
    """Every valid NHS number in the 999 range (909,091 of them), ascending, as int64."""
    serial = np.arange(1_000_000, dtype=np.int64)
    digits = np.stack([(serial // 10**k) % 10 for k in range(5, -1, -1)], axis=1)  # digits 4..9
    total = 9 * 10 + 9 * 9 + 9 * 8 + digits @ np.arange(7, 1, -1)
    check = 11 - total % 11
    check = np.where(check == 11, 0, check)
    ok = check != 10
    return (999_000_000 + serial[ok]) * 10 + check[ok]


# --- the generator ----------------------------------------------------------------------------


class _Events:
    """Accumulates coded rows as arrays, concatenated once at the end."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, patient_idx, code, date, value=None, unit="", source=None) -> None:
        n = len(patient_idx)
        if n == 0:
            return
        self.parts.append(
            {
                "patient_idx": np.asarray(patient_idx),
                "code": np.broadcast_to(np.asarray(code, dtype=object), (n,)),
                "date": np.asarray(date, dtype="datetime64[D]"),
                "value": np.full(n, np.nan) if value is None else np.round(np.asarray(value, dtype=float), 1),
                "unit": np.broadcast_to(np.asarray(unit, dtype=object), (n,)),
            }
        )

    def concat(self) -> dict[str, np.ndarray]:
        if not self.parts:  # a tiny population can have no rows of a kind
            return {
                "patient_idx": np.array([], dtype=np.int64),
                "code": np.array([], dtype=object),
                "date": np.array([], dtype="datetime64[D]"),
                "value": np.array([], dtype=float),
                "unit": np.array([], dtype=object),
            }
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}


def generate(config: SynthConfig, progress: Progress | None = None) -> dict[str, pa.Table]:
    """Build every extract table in memory. `progress(stage)` is called as each stage starts."""
    step = progress or (lambda _stage: None)
    rng = np.random.default_rng(config.seed)
    as_of = np.datetime64(config.as_of, "D")
    codes = Codes.from_codelists()
    n = config.patients

    step("organisations")
    orgs, practice_codes = _organisations(config)

    step("patients")
    practice_weight = rng.lognormal(0, 0.35, config.n_practices)
    practice = rng.choice(config.n_practices, n, p=practice_weight / practice_weight.sum())
    # Each practice serves 25 LSOAs; its neighbourhood centres on one deprivation decile.
    centre = rng.integers(1, 11, config.n_practices)
    lsoa_local = rng.integers(0, 25, n)
    lsoa_index = practice * 25 + lsoa_local
    lsoa_decile_all = np.clip(
        np.round(np.repeat(centre, 25) + rng.normal(0, 1.6, config.n_practices * 25)), 1, 10
    ).astype(np.int8)
    imd_decile = lsoa_decile_all[lsoa_index]
    lsoa = np.char.add("E0199", np.char.zfill(lsoa_index.astype(str), 4))
    # "DM" is not a real postcode area, so synthetic postcodes can never point at a real street.
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    inward = np.char.add(
        np.char.add((lsoa_local % 10).astype(str), letters[rng.integers(0, 20, n)]),
        letters[rng.integers(0, 20, n)],
    )
    postcode = np.char.add(np.char.add("DM", (1 + practice % 99).astype(str)), np.char.add(" ", inward))

    band = rng.choice(len(AGE_BAND_SHARE), n, p=AGE_BAND_SHARE / AGE_BAND_SHARE.sum())
    age_days = (band * 5 * 365.25 + rng.uniform(0, 5 * 365.25, n)).astype(np.int64)
    dob = as_of - age_days * DAY
    age = age_days / 365.25
    sex = rng.choice(np.array(["F", "M", "U"]), n, p=[0.505, 0.4945, 0.0005])

    # More diverse populations where deprivation is higher (urban cores).
    ethnicity = np.empty(n, dtype=object)
    deprived = imd_decile <= 3
    for mask, boost in ((deprived, 1.8), (~deprived, 0.8)):
        share = ETHNICITY_SHARE.copy()
        share[ETHNICITY_CODES != "W_BRI"] *= boost
        ethnicity[mask] = rng.choice(ETHNICITY_CODES, mask.sum(), p=share / share.sum())
    ethnic_group = np.vectorize(lambda c: GROUP_OF[c[0]], otypes=[object])(ethnicity)

    given = np.where(
        sex == "F",
        np.array(names.FEMALE, dtype=object)[rng.integers(0, len(names.FEMALE), n)],
        np.array(names.MALE, dtype=object)[rng.integers(0, len(names.MALE), n)],
    )
    family = np.array(names.FAMILY, dtype=object)[rng.integers(0, len(names.FAMILY), n)]

    # Ofcom's drama range (07700 900000–900999) is never allocated to a real phone.
    has_mobile = (age >= 16) & (rng.random(n) < 0.85)
    mobile = np.char.add("07700 900", np.char.zfill(rng.integers(0, 1000, n).astype(str), 3)).astype(object)
    mobile[~has_mobile] = None
    street = np.array(STREETS)[rng.integers(0, len(STREETS), n)]
    address = np.char.add(
        np.char.add(rng.integers(1, 200, n).astype(str), " "),
        np.char.add(street, np.char.add("\nDemotown\n", postcode)),
    ).astype(object)

    pool = valid_999_numbers()
    rng.shuffle(pool)
    nhs = np.full(n, None, dtype=object)
    take = min(n, len(pool))
    nhs[:take] = pool[:take].astype(str)

    step("risk of SMI and deaths")
    adult = age >= 18
    dep_factor = 1.9 - 0.13 * imd_decile  # decile 1: 1.77x … decile 10: 0.6x
    eth_factor = np.where(ethnic_group == "black", 2.0, np.where(ethnic_group == "mixed", 1.3, 1.0))
    age_factor = np.interp(age, [18, 25, 45, 65, 85, 110], [0.6, 1.0, 1.2, 0.9, 0.6, 0.5])
    p_smi = np.where(adult, dep_factor * eth_factor * age_factor, 0.0)
    if p_smi.sum() > 0:  # no adults at all in a tiny population
        p_smi *= 0.0095 * n / p_smi.sum()
    smi = rng.random(n) < np.minimum(p_smi, 0.5)

    # Deaths in the last two years; people with SMI die younger.
    mortality = 0.001 * np.exp(0.09 * (age - 50)) * np.where(smi, 2.5, 1.0)
    dies = rng.random(n) < np.minimum(2 * mortality, 0.9)
    death = np.where(dies, as_of - rng.integers(1, 730, n) * DAY, np.datetime64("NaT", "D"))
    death = np.where(death < dob, np.datetime64("NaT", "D"), death)
    alive = np.isnat(death)
    last_day = np.where(alive, as_of, death)  # nothing is recorded after death

    step("registrations")
    years_registered = rng.exponential(9, n)
    reg_start = np.maximum(dob, as_of - (years_registered * 365.25).astype(np.int64) * DAY)
    reg_start = np.minimum(reg_start, last_day)
    reg_end = np.where(alive, np.datetime64("NaT", "D"), death)
    moved = (rng.random(n) < 0.05) & (reg_start - dob > 400 * DAY) & (config.n_practices > 1)
    prev_practice = (practice + rng.integers(1, max(2, config.n_practices), n)) % config.n_practices
    prev_start = dob + ((reg_start - dob) * rng.uniform(0, 0.8, n)).astype("timedelta64[D]")
    prev_end = reg_start - DAY

    events = _Events()
    meds = _Events()
    idx = np.arange(n)

    step("SMI diagnoses and remission")
    s = idx[smi]
    kind = rng.choice(3, len(s), p=[0.45, 0.35, 0.20])  # schizophrenia, bipolar, other psychoses
    dx_pool = (codes.schizophrenia, codes.bipolar, codes.other_psychosis)
    dx_code = np.empty(len(s), dtype=object)
    for k in range(3):
        dx_code[kind == k] = rng.choice(dx_pool[k], (kind == k).sum())
    onset_age = np.clip(rng.normal(27, 9, len(s)), 15, age[s] - 0.1)
    dx_date = np.minimum(dob[s] + (onset_age * 365.25).astype(np.int64) * DAY, last_day[s])
    events.add(s, dx_code, dx_date)
    repeat = rng.random(len(s)) < 0.35  # diagnosis re-coded at a later review
    span = np.maximum((last_day[s] - dx_date) / DAY, 1)
    events.add(
        s[repeat],
        dx_code[repeat],
        dx_date[repeat] + (rng.uniform(0, 1, repeat.sum()) * span[repeat]).astype("timedelta64[D]"),
    )
    remits = (rng.random(len(s)) < 0.09) & (span > 60)
    rem_date = dx_date + (np.maximum(span * rng.uniform(0.4, 1.0, len(s)), 1)).astype("timedelta64[D]")
    rem_date = np.minimum(rem_date, last_day[s])
    events.add(s[remits], rng.choice(codes.remission, remits.sum()), rem_date[remits])
    relapse = remits & (rng.random(len(s)) < 0.12) & (last_day[s] - rem_date > 30 * DAY)
    events.add(s[relapse], dx_code[relapse], rem_date[relapse] + rng.integers(1, 30, relapse.sum()) * DAY)

    step("medication")
    bipolar = kind == 1
    on_lithium = bipolar & (rng.random(len(s)) < 0.3)
    lithium_stopped = on_lithium & (rng.random(len(s)) < 0.12)
    on_antipsychotic = rng.random(len(s)) < np.where(remits & ~relapse, 0.35, 0.78)
    _monthly_issues(
        meds,
        rng,
        s[on_antipsychotic],
        last_day[s][on_antipsychotic],
        _pick_antipsychotic(rng, codes, int(on_antipsychotic.sum())),
        first=dx_date[on_antipsychotic],
    )
    li_end = np.where(lithium_stopped, last_day[s] - rng.integers(190, 330, len(s)) * DAY, last_day[s])
    _monthly_issues(
        meds,
        rng,
        s[on_lithium],
        li_end[on_lithium],
        rng.choice(codes.lithium, on_lithium.sum()),
        first=dx_date[on_lithium],
    )
    events.add(s[lithium_stopped], codes.lithium_stopped, li_end[lithium_stopped] + 7 * DAY)
    # Case-finding population: antipsychotics or lithium with no SMI diagnosis.
    others = idx[adult & ~smi & alive]
    ap_only = others[rng.random(len(others)) < 0.0025 * np.interp(age[others], [18, 60, 90], [0.6, 1, 3])]
    _monthly_issues(meds, rng, ap_only, last_day[ap_only], _pick_antipsychotic(rng, codes, len(ap_only)))
    li_only = others[rng.random(len(others)) < 0.0002]
    _monthly_issues(meds, rng, li_only, last_day[li_only], rng.choice(codes.lithium, len(li_only)))

    step("physical health checks")
    reg_smi = s[alive[s]]
    _physical_health(events, rng, codes, reg_smi, as_of, full_check_rate=0.63)
    # Care plans, invitations and the odd informed dissent, as practices record them.
    m = len(reg_smi)
    planned = rng.random(m) < 0.55
    events.add(reg_smi[planned], codes.care_plan, as_of - rng.integers(0, 360, planned.sum()) * DAY)
    invited = rng.random(m) < 0.35
    first_letter = as_of - rng.integers(30, 300, invited.sum()) * DAY
    events.add(reg_smi[invited], codes.first_letter, first_letter)
    again = rng.random(invited.sum()) < 0.4
    events.add(
        reg_smi[invited][again], codes.second_letter, first_letter[again] + rng.integers(7, 28, again.sum()) * DAY
    )
    dissent = rng.random(m) < 0.02
    events.add(reg_smi[dissent], codes.informed_dissent, as_of - rng.integers(0, 300, dissent.sum()) * DAY)
    # The wider adult population has some routine observations too.
    routine = idx[(age >= 21) & alive & ~smi]  # readings up to 3 years back: all taken as adults
    routine = routine[rng.random(len(routine)) < np.where(age[routine] >= 40, 0.35, 0.12)]
    when = as_of - rng.integers(0, 1095, len(routine)) * DAY
    sbp = rng.normal(131, 17, len(routine))
    events.add(routine, codes.systolic, when, sbp, UNITS["bp"])
    events.add(routine, codes.diastolic, when, sbp * 0.6 + rng.normal(2, 7, len(routine)), UNITS["bp"])
    bmi_people = routine[rng.random(len(routine)) < 0.6]
    events.add(
        bmi_people,
        codes.bmi,
        as_of - rng.integers(0, 1095, len(bmi_people)) * DAY,
        np.clip(rng.normal(27.5, 5, len(bmi_people)), 15, 60),
        UNITS["bmi"],
    )

    step("referrals, contacts and outcomes")
    pcn_of_practice = np.arange(config.n_practices) * config.n_pcns // config.n_practices
    care = _care(rng, reg_smi, dx_date[alive[s]], pcn_of_practice[practice[reg_smi]], as_of)

    step("assembling tables")
    patient_id = np.arange(1, n + 1, dtype=np.int64)
    practice_of = np.asarray(practice_codes, dtype=object)
    tables = {
        "organisations": orgs,
        "staff": _staff(orgs, rng),
        "patients": _table(
            "patients",
            {
                "patient_id": patient_id,
                "nhs_number": nhs,
                "given_name": given,
                "family_name": family,
                "date_of_birth": dob,
                "sex": sex,
                "ethnicity": ethnicity,
                "ethnic_group": ethnic_group,
                "postcode": postcode,
                "lsoa": lsoa,
                "imd_decile": imd_decile,
                "date_of_death": death,
            },
        ),
        # Direct-care contact details, kept apart so analytic extracts can leave them out.
        "patient_contacts": _table(
            "patient_contacts", {"patient_id": patient_id, "mobile_phone": mobile, "address": address}
        ),
        "registrations": _table(
            "registrations",
            {
                "patient_id": np.concatenate([patient_id, patient_id[moved]]),
                "practice_code": np.concatenate([practice_of[practice], practice_of[prev_practice[moved]]]),
                "start_date": np.concatenate([reg_start, prev_start[moved]]),
                "end_date": np.concatenate([reg_end, prev_end[moved]]),
            },
        ),
    }
    for name, acc in (("clinical_events", events), ("medications", meds)):
        cols = acc.concat()
        order = np.lexsort((cols["date"], cols["patient_idx"]))
        cols = {k: v[order] for k, v in cols.items()}
        pidx = cols.pop("patient_idx")
        data = {"patient_id": patient_id[pidx], "code": cols["code"], "date": cols["date"]}
        if name == "clinical_events":
            data |= {"value": cols["value"], "unit": cols["unit"]}
        data["source_org_code"] = practice_of[practice[pidx]]
        tables[name] = _table(name, data)
    for name, data in care.items():
        if "patient_idx" in data:
            data["patient_id"] = patient_id[data.pop("patient_idx")]
        tables[name] = _table(name, data)
    return tables


# Team codes as `_organisations` names them; staff ids are per team (team number × 100 + k).
TEAM_SUFFIX = {"eip": "E01", "ips": "I01"}
TEAM_NUMBER = {"eip": 90, "ips": 91}
INTERVENTIONS = np.array(
    [
        "weight_management",
        "smoking_cessation",
        "lipid_cardiovascular_review",
        "diabetes_review",
        "alcohol_brief_intervention",
    ]
)


def _care(
    rng: np.random.Generator, who: np.ndarray, diagnosed: np.ndarray, pcn: np.ndarray, as_of: np.datetime64
) -> dict[str, dict[str, np.ndarray]]:
    """Referrals (CMHT, EIP, IPS), episodes with key workers, contacts, follow-up interventions,
    care plans and DIALOG ratings for the people on the register (`who`, patient indices)."""
    m = len(who)
    nat = np.datetime64("NaT", "D")
    parts: list[dict[str, np.ndarray]] = []
    # CMHT: about 40% referred in the last two years; waits to assessment around 14 weeks.
    cmht = rng.random(m) < 0.4
    eip = (rng.random(m) < 0.6) & (diagnosed > as_of - 1095 * DAY)  # first episodes in 3 years
    ips = rng.random(m) < 0.1
    for pathway, chosen in (("cmht", cmht), ("eip", eip), ("ips", ips)):
        k = int(chosen.sum())
        if pathway == "eip":
            clock = np.minimum(diagnosed[chosen] - rng.integers(0, 30, k) * DAY, as_of)
            wait = np.where(rng.random(k) < 0.65, rng.integers(0, 15, k), rng.integers(15, 90, k))
        else:
            clock = as_of - rng.integers(0, 730, k) * DAY
            wait = np.clip(rng.lognormal(np.log(60), 0.7, k), 1, 400).astype(np.int64)
        milestone = clock + wait * DAY
        done = milestone <= as_of
        if pathway == "cmht":  # the CMHT aligned to the patient's PCN
            team = pcn[chosen] + 1
            destination = np.array([f"RZZC{t:02d}" for t in team], dtype=object)
        else:
            team = np.full(k, TEAM_NUMBER[pathway])
            destination = np.full(k, f"RZZ{TEAM_SUFFIX[pathway]}", dtype=object)
        parts.append(
            {
                "patient_idx": who[chosen],
                "pathway": np.full(k, pathway, dtype=object),
                "destination_code": destination,
                "clock_start": clock,
                "first_contact_on": np.where(done, milestone, nat),
                "assessed_on": np.where(done & (pathway != "ips"), milestone, nat),
                "treatment_started_on": np.where(
                    done & (pathway != "ips"), np.minimum(milestone + rng.integers(0, 21, k) * DAY, as_of), nat
                ),
                "team": team,
            }
        )
    referrals = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    r = len(referrals["patient_idx"])
    referrals["referral_id"] = np.arange(1, r + 1, dtype=np.int64)
    started = ~np.isnat(referrals["first_contact_on"])
    referrals["status"] = np.where(started, "in_treatment", "received").astype(object)
    referrals["source"] = np.full(r, "professional", dtype=object)
    referrals["received_on"] = referrals["clock_start"]
    referrals["closed_on"] = np.full(r, nat)
    referrals["redirected_from_id"] = np.full(r, np.nan)
    team = referrals.pop("team")

    # Episodes for referrals that started, each with a key worker of that team.
    e = np.flatnonzero(started)
    key_worker = team[e] * 100 + rng.integers(1, 4, len(e))
    episodes = {
        "episode_id": np.arange(1, len(e) + 1, dtype=np.int64),
        "patient_idx": referrals["patient_idx"][e],
        "referral_id": referrals["referral_id"][e],
        "team_code": referrals["destination_code"][e],
        "key_worker_id": key_worker,
        "opened_on": referrals["first_contact_on"][e],
        "closed_on": np.full(len(e), nat),
    }
    # Contacts: a few a quarter since the episode opened; most with the key worker.
    span = np.maximum((as_of - episodes["opened_on"]).astype("timedelta64[D]").astype(np.int64), 1)
    count = rng.poisson(np.minimum(span / 30, 12) + 1)
    owner = np.repeat(np.arange(len(e)), count)
    c = len(owner)
    contact_date = episodes["opened_on"][owner] + (rng.random(c) * span[owner]).astype(np.int64) * DAY
    with_key_worker = rng.random(c) < 0.7
    staff = np.where(with_key_worker, key_worker[owner], team[e][owner] * 100 + rng.integers(4, 7, c))
    contacts = {
        "contact_id": np.arange(1, c + 1, dtype=np.int64),
        "episode_id": episodes["episode_id"][owner],
        "patient_idx": episodes["patient_idx"][owner],
        "date": contact_date,
        "outcome": rng.choice(np.array(["attended", "dna", "cancelled"], dtype=object), c, p=[0.8, 0.15, 0.05]),
        "staff_id": staff.astype(np.int64),
    }
    # Follow-up interventions recorded for some of the register.
    f = who[rng.random(m) < 0.3]
    interventions = {
        "patient_idx": f,
        "kind": rng.choice(INTERVENTIONS, len(f)).astype(object),
        "status": rng.choice(np.array(["offered", "declined", "completed"], dtype=object), len(f), p=[0.4, 0.2, 0.4]),
        "date": as_of - rng.integers(0, 330, len(f)) * DAY,
    }
    # Care plans for about 60%.
    planned = who[rng.random(m) < 0.6]
    agreed = as_of - rng.integers(0, 500, len(planned)) * DAY
    care_plans = {
        "care_plan_id": np.arange(1, len(planned) + 1, dtype=np.int64),
        "patient_idx": planned,
        "version": np.ones(len(planned), dtype=np.int32),
        "status": np.full(len(planned), "agreed", dtype=object),
        "agreed_on": agreed,
        "review_due_on": agreed + 365 * DAY,
        "has_crisis_plan": rng.random(len(planned)) < 0.7,
        "organisation_code": np.full(len(planned), "", dtype=object),
    }
    # DIALOG: two ratings for people in CMHT care, means of 8 items (whole eighths).
    rated = e[(referrals["pathway"][e] == "cmht") & (rng.random(len(e)) < 0.7)]
    k = len(rated)
    first_score = rng.integers(16, 41, k)
    later_score = np.clip(first_score + rng.integers(-4, 11, k), 8, 56)
    first_day = as_of - rng.integers(200, 330, k) * DAY
    responses = {
        "response_id": np.arange(1, 2 * k + 1, dtype=np.int64),
        "patient_idx": np.concatenate([referrals["patient_idx"][rated]] * 2),
        "instrument": np.full(2 * k, "dialog", dtype=object),
        "date": np.concatenate([first_day, first_day + rng.integers(60, 190, k) * DAY]),
        "score": np.concatenate([first_score, later_score]) / 8,
    }
    return {
        "referrals": referrals,
        "episodes": episodes,
        "contacts": contacts,
        "interventions": interventions,
        "care_plans": care_plans,
        "questionnaire_responses": responses,
    }


def _pick_antipsychotic(rng: np.random.Generator, codes: Codes, k: int) -> np.ndarray:
    group = rng.choice(3, k, p=[0.80, 0.08, 0.12])
    out = np.empty(k, dtype=object)
    for g, pool in enumerate((codes.sga, codes.fga, codes.depot)):
        out[group == g] = rng.choice(pool, (group == g).sum())
    return out


def _monthly_issues(
    meds: _Events,
    rng: np.random.Generator,
    who: np.ndarray,
    last: np.ndarray,
    product: np.ndarray,
    first: np.ndarray | None = None,
) -> None:
    """Up to twelve months of repeat issues, every ~28 days, ending at `last` (stop or today) and
    never before `first` (the diagnosis that led to the prescription)."""
    if len(who) == 0:
        return
    months = rng.integers(3, 13, len(who))  # how long each person has been on it here
    reps = np.repeat(np.arange(len(who)), months)
    k = np.arange(reps.size) - np.repeat(np.cumsum(months) - months, months)
    dates = np.repeat(last, months) - (k * 28 + rng.integers(0, 7, reps.size)) * DAY
    keep = np.ones(reps.size, dtype=bool) if first is None else dates >= np.repeat(first, months)
    meds.add(who[reps][keep], product[reps][keep], dates[keep])


def _physical_health(
    events: _Events,
    rng: np.random.Generator,
    codes: Codes,
    who: np.ndarray,
    as_of: np.datetime64,
    full_check_rate: float,
) -> None:
    """The six elements for people on the register: this year's check (most elements, on one
    day) for `full_check_rate` of them, occasional elements for the rest, and last year's check."""
    m = len(who)
    for year, rate in ((0, full_check_rate), (1, 0.6)):
        checked = rng.random(m) < rate
        day = as_of - (year * 365 + rng.integers(0, 350, m)) * DAY
        p_element = np.where(checked, 0.975, 0.25)
        has = rng.random((6, m)) < p_element  # bmi, bp, cholesterol, hba1c, alcohol, smoking
        bmi = np.clip(rng.normal(30, 6.5, m), 14, 65)
        events.add(who[has[0]], codes.bmi, day[has[0]], bmi[has[0]], UNITS["bmi"])
        sbp = np.clip(rng.normal(127, 17, m), 85, 220)
        dbp = np.clip(sbp * 0.58 + rng.normal(7, 8, m), 45, 130)
        events.add(who[has[1]], codes.systolic, day[has[1]], sbp[has[1]], UNITS["bp"])
        events.add(who[has[1]], codes.diastolic, day[has[1]], dbp[has[1]], UNITS["bp"])
        chol = np.clip(rng.normal(5.1, 1.1, m), 2.0, 11.0)
        events.add(who[has[2]], codes.cholesterol, day[has[2]], chol[has[2]], UNITS["cholesterol"])
        hba1c = np.clip(rng.lognormal(np.log(38), 0.22, m), 20, 130)
        events.add(who[has[3]], codes.hba1c, day[has[3]], hba1c[has[3]], UNITS["hba1c"])
        units = np.where(rng.random(m) < 0.4, 0.0, np.clip(rng.lognormal(np.log(8), 0.9, m), 1, 150))
        events.add(who[has[4]], codes.alcohol_units, day[has[4]], units[has[4]], UNITS["alcohol"])
        status = rng.choice(3, m, p=[0.40, 0.25, 0.35])
        smoking_code = np.empty(m, dtype=object)
        for k, pool in enumerate((codes.current_smoker, codes.ex_smoker, codes.never_smoker)):
            smoking_code[status == k] = rng.choice(pool, (status == k).sum())
        events.add(who[has[5]], smoking_code[has[5]], day[has[5]])


def _organisations(config: SynthConfig) -> tuple[pa.Table, list[str]]:
    icb = config.icb_code
    rows: list[dict] = [
        dict(
            code=icb,
            name=config.icb_name,
            kind="icb",
            team_type="",
            parent_code="",
            aligned_pcn_code="",
            postcode="DM1 1AA",
        )
    ]
    pcn_codes = [f"U{99000 + i + 1}" for i in range(config.n_pcns)]
    towns = [
        "Northgate",
        "Riverside",
        "Eastfield",
        "Westbrook",
        "Hillcrest",
        "Southmead",
        "Oakwood",
        "Millbrook",
        "Ashford Vale",
        "Kingsley",
        "Brookside",
        "Fairview",
    ]
    for i, code in enumerate(pcn_codes):
        rows.append(
            dict(
                code=code,
                name=f"{_nth(towns, i)} PCN",
                kind="pcn",
                team_type="",
                parent_code=icb,
                aligned_pcn_code="",
                postcode="",
            )
        )
    practice_codes = []
    streets = STREETS
    for i in range(config.n_practices):
        code = f"Z{90000 + i + 1:05d}"
        pcn = pcn_codes[i * config.n_pcns // config.n_practices]
        practice_codes.append(code)
        rows.append(
            dict(
                code=code,
                name=_nth([f"{street} Surgery" for street in streets], i),
                kind="gp_practice",
                team_type="",
                parent_code=pcn,
                aligned_pcn_code="",
                postcode=f"DM{1 + i % 99} 1AA",
            )
        )
    trust = "RZZ"
    rows.append(
        dict(
            code=trust,
            name="Demo Mental Health NHS Foundation Trust",
            kind="mh_trust",
            team_type="",
            parent_code=icb,
            aligned_pcn_code="",
            postcode="",
        )
    )
    for i, pcn in enumerate(pcn_codes):
        rows.append(
            dict(
                code=f"{trust}C{i + 1:02d}",
                name=f"{rows[1 + i]['name'].removesuffix(' PCN')} Community Mental Health Team",
                kind="mh_team",
                team_type="cmht",
                parent_code=trust,
                aligned_pcn_code=pcn,
                postcode="",
            )
        )
    for suffix, team_type, name in [
        ("E01", "eip", "Early Intervention in Psychosis Service"),
        ("I01", "ips", "IPS Employment Service"),
        ("X01", "crisis", "Crisis Resolution and Home Treatment Team"),
        ("P01", "psych_therapies", "Psychological Therapies for Psychosis"),
    ]:
        rows.append(
            dict(
                code=f"{trust}{suffix}",
                name=name,
                kind="mh_team",
                team_type=team_type,
                parent_code=trust,
                aligned_pcn_code="",
                postcode="",
            )
        )
    rows.append(
        dict(
            code="LA999",
            name="Demo Borough Council Adult Social Care",
            kind="local_authority",
            team_type="",
            parent_code=icb,
            aligned_pcn_code="",
            postcode="",
        )
    )
    for code, name in [
        ("VCS01", "Demo Mind"),
        ("VCS02", "Harmony Community Music"),
        ("VCS03", "Peer Support Network"),
    ]:
        rows.append(
            dict(
                code=code,
                name=name,
                kind="vcse",
                team_type="",
                parent_code=icb,
                aligned_pcn_code="",
                postcode="",
            )
        )
    table = pa.Table.from_pylist(rows, schema=SCHEMA["organisations"])
    return table, practice_codes


# How many of each role work at each kind of organisation (team types for MH teams).
STAFFING: dict[str, list[tuple[str, int]]] = {
    "gp_practice": [("gp", 4), ("practice_nurse", 2), ("practice_admin", 2)],
    "pcn": [("pcn_mh_practitioner", 2), ("link_worker", 2)],
    "cmht": [("cmh_clinician", 4), ("key_worker", 3), ("team_manager", 1)],
    "eip": [("cmh_clinician", 3), ("key_worker", 2), ("team_manager", 1)],
    "ips": [("key_worker", 3), ("team_manager", 1)],
    "crisis": [("cmh_clinician", 4), ("team_manager", 1)],
    "psych_therapies": [("cmh_clinician", 3), ("team_manager", 1)],
    "local_authority": [("la_social_worker", 4)],
    "vcse": [("vcse_worker", 2)],
    "icb": [("icb_analyst", 2)],
}


def _staff(orgs: pa.Table, rng: np.random.Generator) -> pa.Table:
    """Staff for every organisation, with usernames like `z90001-gp-2`."""
    rows = []
    for org in orgs.to_pylist():
        for role, count in STAFFING.get(org["team_type"] or org["kind"], []):
            for k in range(1, count + 1):
                female = rng.random() < 0.6
                given = names.FEMALE if female else names.MALE
                rows.append(
                    {
                        "username": f"{org['code'].lower()}-{role.replace('_', '')}-{k}",
                        "given_name": given[int(rng.integers(len(given)))],
                        "family_name": names.FAMILY[int(rng.integers(len(names.FAMILY)))],
                        "role": role,
                        "organisation_code": org["code"],
                    }
                )
    return pa.Table.from_pylist(rows, schema=SCHEMA["staff"])


def _nth(names: list[str], i: int) -> str:
    """The i-th name, numbered once the list runs out: 'Park Road Surgery', … 'Park Road Surgery 2'."""
    base = names[i % len(names)]
    return base if i < len(names) else f"{base} {i // len(names) + 1}"


def _table(name: str, data: dict[str, np.ndarray]) -> pa.Table:
    schema = SCHEMA[name]
    arrays = []
    for f in schema:
        values = data[f.name]
        if pa.types.is_date32(f.type):
            arrays.append(pa.array(values.astype("datetime64[D]"), type=pa.date32(), mask=np.isnat(values)))
        elif pa.types.is_floating(f.type):
            arrays.append(pa.array(values, type=f.type, mask=np.isnan(values)))
        elif pa.types.is_integer(f.type) and values.dtype.kind == "f":  # nullable ids
            arrays.append(pa.array(np.nan_to_num(values).astype(np.int64), type=f.type, mask=np.isnan(values)))
        elif pa.types.is_dictionary(f.type):
            arrays.append(pa.array(values, type=pa.string()).dictionary_encode())
        else:
            arrays.append(pa.array(values, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def write_parquet(tables: dict[str, pa.Table], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, table in tables.items():
        path = out_dir / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd")
        written[name] = path
    return written
