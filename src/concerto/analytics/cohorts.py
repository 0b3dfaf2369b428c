"""The populations indicators start from, for one reporting period, as Ibis expressions.

`Cohort(tables, period)` gives the registered population (with the breakdown columns) and the SMI
register on the period's reporting date. Both follow the app's rules exactly: the register is the
QOF rule of `docs/register.md` (code sets from `concerto.register.queries.CODES`), and the physical
health check's elements, windows and thresholds come from the same rules file the app uses
(`concerto.register.rules.load()`), so "all six checks" means the same here as on the app's pages.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import ibis
import pyarrow as pa
from ibis import _

from concerto.core import clock

AGE_BANDS: tuple[tuple[int, str], ...] = (
    (0, "0-17"),
    (18, "18-24"),
    (25, "25-34"),
    (35, "35-44"),
    (45, "45-54"),
    (55, "55-64"),
    (65, "65-74"),
    (75, "75+"),
)
BREAKDOWN_COLUMNS = ("imd_quintile", "ethnic_group", "age_band", "sex")


@dataclass(frozen=True)
class Period:
    """A reporting month: figures are as at its last day (the reporting date)."""

    month: dt.date  # the first day of the month

    @classmethod
    def of(cls, day: dt.date) -> Period:
        return cls(day.replace(day=1))

    @property
    def end(self) -> dt.date:
        return self.month.replace(day=calendar.monthrange(self.month.year, self.month.month)[1])

    def months_before_end(self, months: int) -> dt.date:
        """The same day `months` earlier than the reporting date (a window's exclusive start)."""
        return clock.months_before(self.end, months)


def lit(day: dt.date) -> ibis.Expr:
    return ibis.date(day.year, day.month, day.day)


@functools.cache
def concepts() -> dict[str, frozenset[str]]:
    """Every code set the indicators use, by name: the register's code sets (the same objects
    the app's register queries use) and the health check's elements and flags from its rules."""
    from concerto.register import rules as phc
    from concerto.register.queries import CODES

    rules = phc.load()
    found = {
        "diagnosis": CODES.diagnosis,
        "remission": CODES.remission,
        "any_mh": CODES.any_mh,
        "lithium": CODES.lithium,
        "lithium_stopped": CODES.lithium_stopped,
        "antipsychotic": CODES.antipsychotic,
        "antipsychotic_or_lithium": sorted(set(CODES.antipsychotic) | set(CODES.lithium)),
    }
    for element in rules.elements:
        found[f"element:{element.key}"] = sorted(element.recorded)
    for f in rules.flags:
        found[f"flag:{f.key}"] = sorted(rules.element(f.element).recorded if f.is_status else f.value_codes)
        found[f"cleared:{f.key}"] = sorted(f.cleared_by)
    return {name: frozenset(codes) for name, codes in found.items()}


@functools.cache
def concept_table() -> pa.Table:
    """Every code of every concept as (concept, code) rows (built once: Arrow tables are immutable)."""
    rows = sorted((name, code) for name, codes in concepts().items() for code in codes)
    return pa.table({"concept": [r[0] for r in rows], "code": [r[1] for r in rows]})


@dataclass
class Tables:
    """The extract's tables on one connection, looked up lazily by name."""

    con: object
    lookup: Callable[[object, str], ibis.Table]
    _cache: dict = field(default_factory=dict)

    def __getattr__(self, name: str) -> ibis.Table:
        if name.startswith("_") or name in {"con", "lookup"}:
            raise AttributeError(name)
        if name not in self._cache:
            if name == "concept_codes":
                from concerto.analytics import engines

                self._cache[name] = engines.add_table(self.con, name, concept_table(), index=("code", "concept"))
            else:
                self._cache[name] = self.lookup(self.con, name)
        return self._cache[name]


def latest_per_patient(events: ibis.Table, *, value: str | None = None, name: str = "at") -> ibis.Table:
    """Each patient's latest `date` in `events` as `name` (and, if `value` is given, the largest
    `value` recorded on that date as `<name>_value`: same-day ties resolve the same on every engine)."""
    last = events.group_by("patient_id").aggregate(**{name: _.date.max()})
    if value is None:
        return last
    on_day = events.inner_join(last, [events.patient_id == last.patient_id, events.date == last[name]])
    return on_day.group_by("patient_id").aggregate(**{name: _[name].max(), f"{name}_value": _[value].max()})


def attach(left: ibis.Table, right: ibis.Table, on: str = "patient_id") -> ibis.Table:
    """`left` with `right`'s other columns, null where `right` has no row (a left join)."""
    joined = left.left_join(right, on)
    return joined.select(*[left[c] for c in left.columns], *[right[c] for c in right.columns if c != on])


class Cohort:
    """Cohorts for one period on one connection. `materialise` computes a shared cohort once."""

    def __init__(
        self,
        tables: Tables,
        period: Period,
        *,
        materialise: Callable[[ibis.Table], ibis.Table],
        breakdowns: bool = True,
        shared_population: bool = True,
    ):
        from concerto.register import rules

        self.t, self.period, self.materialise = tables, period, materialise
        self.breakdowns, self.shared_population = breakdowns, shared_population
        self.rules = rules.load()
        self.end = lit(period.end)

    def events(self, concept: str, *, months: int | None = None, table: str = "clinical_events") -> ibis.Table:
        """Rows of `table` whose code is in `concept` (a name in `concepts()`), on or before the
        reporting date and (with `months`) after the same date that many months earlier. Codes
        are joined from a small table rather than listed in the SQL: thousands of literals cost
        more to compile than the query costs to run."""
        codes = self.t.concept_codes
        wanted = codes.filter(codes.concept == concept).select("code")
        return self._dated(getattr(self.t, table), months).semi_join(wanted, "code")

    def _dated(self, rows: ibis.Table, months: int | None) -> ibis.Table:
        """`rows` dated on or before the reporting date and (with `months`) after the same date
        that many months earlier."""
        condition = rows.date <= self.end
        if months is not None:
            condition &= rows.date > lit(self.period.months_before_end(months))
        return rows.filter(condition)

    def within(self, column: ibis.Expr, months: int) -> ibis.Expr:
        """`column` falls in the `months` up to and including the reporting date."""
        return (column > lit(self.period.months_before_end(months))) & (column <= self.end)

    @cached_property
    def population(self) -> ibis.Table:
        """Alive and registered on the reporting date, with their practice and breakdown groups."""
        return self.materialise(self._population())

    def population_of(self, units: ibis.Table) -> ibis.Table:
        """The population's rows for the people in `units` (a table with `patient_id`). When only
        one query reads the population, it is worked out for those people alone: a register-sized
        indicator then never groups the whole list's registrations."""
        if self.shared_population:
            return self.population
        return self._population(only=units.select("patient_id"))

    def _population(self, *, only: ibis.Table | None = None) -> ibis.Table:
        end = self.end
        regs = self.t.registrations
        current = regs.filter((regs.start_date <= end) & (regs.end_date.isnull() | (regs.end_date >= end)))
        p = self.t.patients
        alive = p.filter(p.date_of_death.isnull() | (p.date_of_death > end))
        if only is not None:
            current, alive = current.semi_join(only, "patient_id"), alive.semi_join(only, "patient_id")
        # At most one current registration per patient (schema); min() keeps any bad feed to one row.
        practice = current.group_by("patient_id").aggregate(practice_code=_.practice_code.min())
        people = alive.select("patient_id", **self._groups(alive))
        return people.inner_join(practice, "patient_id").select("patient_id", "practice_code", *BREAKDOWN_COLUMNS)

    def _groups(self, alive: ibis.Table) -> dict[str, ibis.Expr]:
        """The breakdown columns of each person (all "all" when no breakdowns are wanted)."""
        if not self.breakdowns:
            return {column: ibis.literal("all") for column in BREAKDOWN_COLUMNS}
        on = self.period.end
        born = alive.date_of_birth
        # Whole years on the reporting date, the same on every engine (no interval arithmetic).
        before_birthday = (born.month() * 100 + born.day()) > (on.month * 100 + on.day)
        age = (on.year - born.year()) - before_birthday.ifelse(1, 0)  # PostgreSQL cannot cast booleans
        band = ibis.cases(*[(age >= lower, label) for lower, label in reversed(AGE_BANDS[1:])], else_=AGE_BANDS[0][1])
        quintile = ((alive.imd_decile.cast("int64") + 1) // 2).cast("string")
        return {
            "imd_quintile": quintile.fill_null("unknown"),
            "ethnic_group": alive.ethnic_group.fill_null("not_stated"),
            "age_band": band,
            "sex": alive.sex.fill_null("U"),
        }

    def latest(self, names: list[str], *, months: int | None = None, of: ibis.Table | None = None) -> ibis.Table:
        """Each person's latest coded event date for each concept in `names` (a column each, null
        when there is none), in one pass over the events; `months` and `of` (a table with
        `patient_id`) narrow the events as in `events`."""
        rows = self._dated(self.t.clinical_events, months)
        if of is not None:
            rows = rows.semi_join(of, "patient_id")
        codes = self.t.concept_codes
        coded = rows.inner_join(codes.filter(codes.concept.isin(names)), "code")  # a code may be in several
        return coded.group_by("patient_id").aggregate(**{n: coded.date.max(where=coded.concept == n) for n in names})

    @cached_property
    def register(self) -> ibis.Table:
        """The SMI register on the reporting date (QOF rule, docs/register.md), with `by_diagnosis`."""
        coded = self.latest(["diagnosis", "remission", "lithium_stopped"])
        lithium = latest_per_patient(self.events("lithium", months=6, table="medications"), name="lithium")
        diagnosed = coded.filter(coded.diagnosis.notnull()).select("patient_id")
        rows = attach(attach(diagnosed.union(lithium.select("patient_id"), distinct=True), coded), lithium)
        by_diagnosis = rows.diagnosis.notnull() & (rows.remission.isnull() | (rows.remission <= rows.diagnosis))
        by_lithium = rows.lithium.notnull() & (rows.lithium_stopped.isnull() | (rows.lithium_stopped < rows.lithium))
        on = rows.filter(by_diagnosis | by_lithium).select(
            "patient_id", by_diagnosis=by_diagnosis.ifelse(1, 0), diagnosed=rows.diagnosis
        )
        # Not joined to the population here: `run` joins every indicator's units to it, so the
        # register of the figures is always of people alive and registered on the reporting date.
        return self.materialise(on)

    @cached_property
    def checks(self) -> ibis.Table:
        """Per person on the register: a 0/1 column per check element recorded in the window,
        and `all_six`."""
        register = self.register.select("patient_id")
        keys = [e.key for e in self.rules.elements]
        names = [f"element:{k}" for k in keys]
        rows = attach(register, self.latest(names, months=self.rules.window_months, of=register))
        filled = rows.select(
            "patient_id", **{k: rows[n].notnull().ifelse(1, 0).cast("int64") for k, n in zip(keys, names, strict=True)}
        )
        all_six = ibis.literal(1, "int64")
        for k in keys:
            all_six = all_six * filled[k]
        return self.materialise(filled.mutate(all_six=all_six))
