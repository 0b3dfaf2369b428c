"""QOF mental health indicators (MH001–MH021) and the national physical health check measures,
as SQL conditions over the check rows (`queries.check_rows` columns), counted by the database.

QOF indicators MH002–MH021 use the diagnosis register (MH1: not the lithium-only people) and
honour personalised care adjustments (PCAs): a patient who did not meet an indicator leaves its
denominator if, in the window, they gave informed dissent or were unsuitable (MHPCADEC/MHPCAPU),
declined that element (or were unsuitable for it), had two invitations at least 7 days apart, or
were diagnosed or registered in the last 3 months. A patient who met it always counts.

Numbers between MH001 and MH021 not listed here are retired from the current QOF.
Gap: MH011 treats pre-existing cardiovascular disease as higher risk, but no public code list
for it is shipped; a site can add one named `cvd_conditions` (see docs/codelists.md), which is
then used. Without it, risk is judged on antipsychotics, smoking and weight alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from concerto.core import codelists
from concerto.register.rules import Rules


@dataclass(frozen=True)
class Indicator:
    id: str
    title: str
    met: str  # SQL over the row's columns
    excepted: str  # SQL: a PCA applies
    uses_pca: bool = True
    target_percent: int | None = None


def _lipids_met(rules: Rules) -> str:
    # MH011: a lipid profile in 12 months for higher-risk patients, else in 24 months.
    bmi = next(f for f in rules.flags if f.key == "bmi_high")
    smoker = next(f for f in rules.flags if f.is_status and f.element == "smoking")
    high_risk = (
        "(rows.antipsychotic_date IS NOT NULL"
        f" OR rows.{smoker.key}_abnormal = 1"
        f" OR rows.{bmi.key}_value >= 30"
        f" OR (rows.{bmi.key}_value >= 25 AND (rows.ethnicity LIKE 'W%%' OR rows.ethnicity = 'Z'))"
        f" OR (rows.{bmi.key}_value >= 23 AND rows.ethnicity NOT LIKE 'W%%' AND rows.ethnicity <> 'Z')"
        + (" OR rows.cvd IS NOT NULL" if "cvd_conditions" in codelists.all_codelists() else "")
        + ")"
    )
    # CASE makes the risk test NULL-safe: an unknown BMI is not a risk factor.
    low_risk = f"(CASE WHEN {high_risk} THEN 1 ELSE 0 END) = 0"
    return f"((rows.lipids_date IS NOT NULL) OR ({low_risk} AND rows.lipids_24_date IS NOT NULL))"


GENERAL_PCA = "(rows.excluded_on IS NOT NULL OR rows.invited_twice = 1 OR rows.recently_joined = 1)"


def indicators(*, rules: Rules) -> list[Indicator]:
    def element_pca(key: str) -> str:
        element = rules.element(key)
        parts = [GENERAL_PCA]
        if element.declined:
            parts.append(f"rows.{key}_declined IS NOT NULL")
        if element.unsuitable:
            parts.append(f"rows.{key}_unsuitable IS NOT NULL")
        return "(" + " OR ".join(parts) + ")"

    def done(key: str) -> str:
        return f"rows.{key}_date IS NOT NULL"

    lipids = _lipids_met(rules)
    six = " AND ".join([done("blood_pressure"), done("bmi"), done("alcohol"), lipids, done("glucose"), done("smoking")])
    any_element_pca = "(" + " OR ".join(element_pca(e.key) for e in rules.elements) + ")"
    return [
        Indicator("MH002", "Care plan agreed in the last 12 months", "rows.care_plan_date IS NOT NULL", GENERAL_PCA),
        Indicator(
            "MH003", "Blood pressure in the last 12 months", done("blood_pressure"), element_pca("blood_pressure")
        ),
        Indicator("MH006", "BMI in the last 12 months", done("bmi"), element_pca("bmi")),
        Indicator("MH007", "Alcohol consumption in the last 12 months", done("alcohol"), element_pca("alcohol")),
        Indicator("MH011", "Lipid profile (12 months if higher risk, else 24)", lipids, element_pca("lipids")),
        Indicator("MH012", "HbA1c or glucose in the last 12 months", done("glucose"), element_pca("glucose")),
        Indicator("MH021", "All six elements of the physical health check", six, any_element_pca),
    ]


def measures(*, rules: Rules) -> dict[str, tuple[str, list]]:
    """Everything the indicator page counts, as name → (SQL condition, parameters)."""
    any_abnormal = "(" + " OR ".join(f"rows.{f.key}_abnormal = 1" for f in rules.flags) + ")"
    out: dict[str, tuple[str, list]] = {
        "register_diagnosis": ("rows.diagnosis_based = 1", []),
        "register_lithium_only": ("rows.diagnosis_based = 0", []),
        # The national ambition (60%): all six in 12 months, whole diagnosis register, no PCAs.
        "all_six": ("rows.diagnosis_based = 1 AND rows.all_six = 1", []),
        "any_abnormal": (f"rows.diagnosis_based = 1 AND {any_abnormal}", []),
        # Every abnormal result has had its follow-up offered (or declined, or completed).
        "abnormal_followed_up": (
            f"rows.diagnosis_based = 1 AND {any_abnormal} AND "
            + " AND ".join(f"(rows.{f.key}_abnormal = 0 OR rows.{f.key}_followed_up = 1)" for f in rules.flags),
            [],
        ),
    }
    for e in rules.elements:
        out[f"element_{e.key}"] = (f"rows.diagnosis_based = 1 AND rows.{e.key}_date IS NOT NULL", [])
    for f in rules.flags:
        out[f"flag_{f.key}"] = (f"rows.diagnosis_based = 1 AND rows.{f.key}_abnormal = 1", [])
        out[f"flag_{f.key}_followed"] = (
            f"rows.diagnosis_based = 1 AND rows.{f.key}_abnormal = 1 AND rows.{f.key}_followed_up = 1",
            [],
        )
    for d in indicators(rules=rules):
        out[f"{d.id.lower()}_num"] = (f"rows.diagnosis_based = 1 AND {d.met}", [])
        out[f"{d.id.lower()}_den"] = (f"rows.diagnosis_based = 1 AND (({d.met}) OR NOT {d.excepted})", [])
    return out
