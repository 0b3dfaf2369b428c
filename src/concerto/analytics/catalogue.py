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
]

INDICATORS: dict[str, Indicator] = {i.key: i for i in _ALL}
