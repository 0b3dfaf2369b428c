"""The indicator catalogue: what each indicator means, the standard it tracks, and how its units
add up to a figure. The definitions themselves are in `indicators.py`; the prose is in
docs/indicators.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis

from concerto.analytics import indicators as ind

# How a figure comes from the units (see run.py): a percentage numerator/denominator, a count of
# the numerator, a quantile or mean of `measure`, or the Bice-Boxerman continuity index.
STATISTICS = ("proportion", "count", "median", "p90", "mean_eighths", "bice_boxerman")


@dataclass(frozen=True)
class Indicator:
    key: str
    title: str
    description: str
    standard: str
    target: float | None
    higher_is_better: bool
    unit: str  # "%", "days", "count", "index"
    statistic: str
    compute: Callable[..., ibis.Table]

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise ValueError(f"{self.key}: unknown statistic {self.statistic}")
        if self.unit not in {"%", "days", "count", "index"}:
            raise ValueError(f"{self.key}: unknown unit {self.unit}")


PHC_STANDARD = (
    "60% of people on the SMI register receive all six physical health checks in 12 months (NHS Long Term Plan)"
)
ELEMENT_TITLES = {
    "bmi": "BMI or weight",
    "blood_pressure": "Blood pressure",
    "lipids": "Cholesterol (lipids)",
    "glucose": "HbA1c or blood glucose",
    "alcohol": "Alcohol consumption",
    "smoking": "Smoking status",
}

_ALL: list[Indicator] = [
    Indicator(
        key="smi_register",
        title="People on the SMI register",
        description="Alive and registered on the reporting date, on the QOF SMI register (diagnosis or lithium).",
        standard="QOF MH001: practices keep a register of people with schizophrenia, bipolar affective "
        "disorder and other psychoses, and others on lithium",
        target=None,
        higher_is_better=True,
        unit="count",
        statistic="count",
        compute=ind.smi_register,
    ),
    Indicator(
        key="smi_prevalence",
        title="SMI register prevalence",
        description="People on the SMI register as a percentage of the registered list.",
        standard="England's recorded SMI prevalence is about 0.95% (QOF); a lower figure can mean people not yet found",
        target=None,
        higher_is_better=True,
        unit="%",
        statistic="proportion",
        compute=ind.smi_prevalence,
    ),
    Indicator(
        key="phc_all_six",
        title="All six physical health checks",
        description="People on the SMI register with all six elements recorded in the 12 months up to the "
        "reporting date (the national measure: no exceptions).",
        standard=PHC_STANDARD,
        target=60.0,
        higher_is_better=True,
        unit="%",
        statistic="proportion",
        compute=ind.phc_all_six,
    ),
    *[
        Indicator(
            key=f"phc_{key}",
            title=f"Health check element: {title}",
            description=f"People on the SMI register with {title.lower()} recorded in the 12 months up to the "
            "reporting date.",
            standard=PHC_STANDARD + "; each element is one of the six",
            target=None,
            higher_is_better=True,
            unit="%",
            statistic="proportion",
            compute=getattr(ind, f"phc_{key}"),
        )
        for key, title in ELEMENT_TITLES.items()
    ],
    Indicator(
        key="phc_follow_up",
        title="Abnormal results followed up",
        description="People on the SMI register with an abnormal health-check result in the 12 months "
        "(thresholds from the register's rules file) whose every abnormal result has a follow-up "
        "intervention offered, declined or done on or after it.",
        standard="NHS England: the check is only complete when abnormal results lead to interventions "
        "(smoking cessation, weight management, lipid and diabetes care)",
        target=None,
        higher_is_better=True,
        unit="%",
        statistic="proportion",
        compute=ind.phc_follow_up,
    ),
    Indicator(
        key="integrated_contacts_2plus",
        title="Two or more contacts with the integrated teams",
        description="People on the SMI register with two or more attended contacts with community mental "
        "health, PCN, council or VCSE teams in the 12 months.",
        standard="NHS Long Term Plan: 370,000 adults with SMI a year receive care (2+ contacts) from "
        "integrated primary and community mental health services",
        target=None,
        higher_is_better=True,
        unit="%",
        statistic="proportion",
        compute=ind.integrated_contacts_2plus,
    ),
    Indicator(
        key="eip_two_weeks",
        title="EIP treatment within two weeks",
        description="Referrals to early intervention in psychosis whose treatment started in the 3 months up "
        "to the reporting date: treatment started within 14 days of the first referral.",
        standard="Early intervention in psychosis access standard: at least 60% start NICE-recommended "
        "treatment within 2 weeks of referral",
        target=60.0,
        higher_is_better=True,
        unit="%",
        statistic="proportion",
        compute=ind.eip_two_weeks,
    ),
    Indicator(
        key="ips_access",
        title="People starting IPS employment support",
        description="People whose individual placement and support started (first attended contact) in the 12 months.",
        standard="NHS Long Term Plan: 55,000 people with SMI a year access IPS",
        target=None,
        higher_is_better=True,
        unit="count",
        statistic="count",
        compute=ind.ips_access,
    ),
    Indicator(
        key="wait_assessment_median",
        title="Wait from referral to assessment (median)",
        description="Community mental health referrals assessed in the 3 months: median days from the first "
        "referral (across redirects) to assessment.",
        standard="Proposed community mental health standard: care starts within 4 weeks of referral "
        "(today about 14 weeks on average)",
        target=28.0,
        higher_is_better=False,
        unit="days",
        statistic="median",
        compute=ind.wait_assessment_median,
    ),
    Indicator(
        key="wait_assessment_p90",
        title="Wait from referral to assessment (90th percentile)",
        description="As the median wait, the 90th percentile: nine in ten were assessed within this many days.",
        standard="Proposed community mental health standard: care starts within 4 weeks of referral",
        target=28.0,
        higher_is_better=False,
        unit="days",
        statistic="p90",
        compute=ind.wait_assessment_p90,
    ),
    Indicator(
        key="wait_assessment_4_weeks",
        title="Assessed within 4 weeks",
        description="Community mental health referrals assessed in the 3 months: assessed within 28 days of "
        "the first referral.",
        standard="Proposed community mental health standard: care starts within 4 weeks of referral",
        target=None,
        higher_is_better=True,
        unit="%",
        statistic="proportion",
        compute=ind.wait_assessment_4_weeks,
    ),
    Indicator(
        key="newly_diagnosed_not_referred",
        title="Newly diagnosed, never referred on",
        description="People first diagnosed with SMI 3 to 15 months before the reporting date who were never "
        "referred to a specialist mental health service (from 90 days before diagnosis).",
        standard="Community Mental Health Framework: about 28% of people diagnosed are never referred on; "
        "everyone newly diagnosed should be offered specialist assessment",
        target=None,
        higher_is_better=False,
        unit="%",
        statistic="proportion",
        compute=ind.newly_diagnosed_not_referred,
    ),
    Indicator(
        key="dialog_change",
        title="DIALOG change",
        description="People with two or more DIALOG ratings in the 12 months: mean change from the first to "
        "the latest in the mean life-satisfaction score (8 items, 1–7; positive is better). The "
        "numerator counts those who improved.",
        standard="Community Mental Health Framework: routine outcome measurement with DIALOG",
        target=None,
        higher_is_better=True,
        unit="index",
        statistic="mean_eighths",
        compute=ind.dialog_change,
    ),
    Indicator(
        key="continuity_key_worker",
        title="Contacts with the named key worker",
        description="Attended contacts in the 12 months that were with the episode's named key worker.",
        standard="Community Mental Health Framework: a named key worker coordinates each person's care",
        target=None,
        higher_is_better=True,
        unit="%",
        statistic="proportion",
        compute=ind.continuity_key_worker,
    ),
    Indicator(
        key="continuity_bice_boxerman",
        title="Continuity of care (Bice-Boxerman index)",
        description="Mean Bice-Boxerman continuity of care index (0 = a different person every time, 1 = "
        "always the same) over people with two or more attended contacts in the 12 months.",
        standard="Relational continuity: people with SMI see the same professionals (no national target)",
        target=None,
        higher_is_better=True,
        unit="index",
        statistic="bice_boxerman",
        compute=ind.continuity_bice_boxerman,
    ),
    Indicator(
        key="case_finding_medication_no_diagnosis",
        title="Case-finding: antipsychotic or lithium with no SMI code",
        description="People issued an antipsychotic or lithium in the 12 months with no SMI code ever.",
        standard="Case-finding for the register (docs/register.md): each needs review, not a target",
        target=None,
        higher_is_better=False,
        unit="count",
        statistic="count",
        compute=ind.case_finding_medication_no_diagnosis,
    ),
    Indicator(
        key="case_finding_no_contact",
        title="Case-finding: on the register, no contact for 12 months",
        description="People on the SMI register with no coded event, medication or attended contact in the 12 months.",
        standard="Case-finding: people lost to follow-up are invited back (docs/register.md)",
        target=None,
        higher_is_better=False,
        unit="count",
        statistic="count",
        compute=ind.case_finding_no_contact,
    ),
    Indicator(
        key="case_finding_remission_on_antipsychotics",
        title="Case-finding: remission coded, antipsychotics continue",
        description="People whose latest SMI code is a remission code while antipsychotics were issued after "
        "it, in the last 6 months.",
        standard="Case-finding: a remission code may be wrong while treatment continues (docs/register.md)",
        target=None,
        higher_is_better=False,
        unit="count",
        statistic="count",
        compute=ind.case_finding_remission_on_antipsychotics,
    ),
]

INDICATORS: dict[str, Indicator] = {i.key: i for i in _ALL}
