"""Every indicator, defined once in Ibis, for one reporting period (`cohorts.Cohort`).

Each function returns the indicator's *units* (usually people, sometimes referrals or contacts),
one row each, with `patient_id` (for the person's practice and breakdown groups) and:

- `numerator`, `denominator`: 0/1 (or counts) that add up across units;
- `measure` (and `measure2`): whole numbers whose distribution gives a statistic (a wait in days,
  a score change in eighths, contact counts for a continuity index). Omitted when not needed.

`run.run_indicators` adds the units up by practice and breakdown group on the engine, then rolls
them up to PCN and ICB and computes each statistic; the catalogue (`catalogue.py`) says which
statistic and unit each indicator has. Everything here is plain Ibis, so the same definition runs
on SQLite, PostgreSQL, DuckDB and Spark.
"""

from __future__ import annotations

import ibis
from ibis import _

from concerto.analytics.cohorts import Cohort, attach

ONE = ibis.literal(1, "int64")


def _flag(condition: ibis.Expr) -> ibis.Expr:
    return condition.cast("int64")


# --- the register -----------------------------------------------------------------------------


def smi_register(c: Cohort) -> ibis.Table:
    """People on the SMI register (count); the denominator is the registered list."""
    on = c.register.select("patient_id").mutate(on_register=ONE)
    rows = attach(c.population.select("patient_id"), on)
    return rows.select("patient_id", numerator=rows.on_register.fill_null(0), denominator=ONE)


smi_prevalence = smi_register  # the same units; the catalogue reads them as a percentage


# --- the physical health check ----------------------------------------------------------------


def phc_all_six(c: Cohort) -> ibis.Table:
    """People on the register with all six elements recorded in the 12 months."""
    return c.checks.select("patient_id", numerator=_.all_six, denominator=ONE)


def _element(key: str):
    def indicator(c: Cohort) -> ibis.Table:
        return c.checks.select("patient_id", numerator=c.checks[key], denominator=ONE)

    indicator.__name__ = f"phc_{key}"
    indicator.__doc__ = f"People on the register with the {key.replace('_', ' ')} element recorded in the 12 months."
    return indicator


phc_bmi = _element("bmi")
phc_blood_pressure = _element("blood_pressure")
phc_lipids = _element("lipids")
phc_glucose = _element("glucose")
phc_alcohol = _element("alcohol")
phc_smoking = _element("smoking")
