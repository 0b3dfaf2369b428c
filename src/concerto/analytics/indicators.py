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

from concerto.analytics.cohorts import Cohort, attach, latest_per_patient, lit

ONE = ibis.literal(1, "int64")


def _flag(condition: ibis.Expr) -> ibis.Expr:
    # Not a cast: PostgreSQL cannot cast a boolean to bigint.
    return condition.ifelse(ONE, ibis.literal(0, "int64"))


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


def phc_follow_up(c: Cohort) -> ibis.Table:
    """People on the register with an abnormal result in the window: every abnormal result
    followed up (an intervention offered, declined or completed on or after it, or a code that
    is itself the follow-up), as in the app's recall (docs/register.md)."""
    months = c.rules.window_months
    register = c.register.select("patient_id")
    flagged = []
    for f in c.rules.flags:
        field = "code" if f.is_status else "value"
        last = latest_per_patient(c.events(f"flag:{f.key}", months=months), value=field, name="at")
        last = last.inner_join(register, "patient_id")
        if f.is_status:
            abnormal = last.at_value.isin(sorted(f.status_codes))
        elif f.at_least is not None:
            abnormal = last.at_value >= float(f.at_least)
        else:
            abnormal = last.at_value > float(f.above or 0)
        # Materialised per flag: SQLite's parser cannot take all eight flags nested in one query.
        results = c.materialise(last.filter(abnormal.fill_null(False)).select("patient_id", "at"))
        done = c.t.interventions
        done = done.filter((done.kind == f.intervention) & (done.date <= c.end)).select("patient_id", "date")
        if f.cleared_by:
            coded = c.events(f"cleared:{f.key}").select("patient_id", "date")
            done = done.union(coded, distinct=False)
        hit = results.inner_join(done, [results.patient_id == done.patient_id, done.date >= results.at])
        followed = hit.select(patient_id=results.patient_id).distinct().mutate(followed=ONE)
        flagged.append(c.materialise(attach(results.select("patient_id"), followed).mutate(flag=ibis.literal(f.key))))
    rows = ibis.union(*flagged, distinct=False) if len(flagged) > 1 else flagged[0]
    rows = rows.mutate(followed=rows.followed.fill_null(0))
    return rows.group_by("patient_id").aggregate(numerator=_.followed.min()).mutate(denominator=ONE)


# --- care from the integrated model -----------------------------------------------------------


def _attended(c: Cohort, months: int = 12) -> ibis.Table:
    contacts = c.t.contacts
    return contacts.filter((contacts.outcome == "attended") & c.within(contacts.date, months))


# The integrated model's teams: community mental health teams, and the PCN, council and VCSE
# partners; crisis, EIP, IPS and psychological therapies contacts are specialist care, not this measure.
INTEGRATED_KINDS = ("pcn", "local_authority", "vcse")
INTEGRATED_TEAM_TYPES = ("cmht",)


def integrated_contacts_2plus(c: Cohort) -> ibis.Table:
    """People on the register with two or more attended contacts with the integrated teams
    (community mental health, PCN, council, VCSE) in the 12 months."""
    episodes = c.t.episodes.select("episode_id", "team_code")
    o = c.t.organisations
    teams = o.filter(
        o.kind.isin(list(INTEGRATED_KINDS)) | ((o.kind == "mh_team") & o.team_type.isin(list(INTEGRATED_TEAM_TYPES)))
    ).select(team_code=o.code)
    integrated = _attended(c).inner_join(episodes, "episode_id").inner_join(teams, "team_code")
    per_person = integrated.group_by("patient_id").aggregate(contacts=_.count())
    rows = attach(c.register.select("patient_id"), per_person)
    return rows.select("patient_id", numerator=_flag(rows.contacts.fill_null(0) >= 2), denominator=ONE)


def _referrals(c: Cohort, pathways: tuple[str, ...]) -> ibis.Table:
    r = c.t.referrals
    return r.filter(r.pathway.isin(list(pathways)))


def eip_two_weeks(c: Cohort) -> ibis.Table:
    """EIP referrals whose treatment started in the 3 months: treatment within 14 days of the
    first referral (the clock runs across redirects)."""
    r = _referrals(c, ("eip",))
    started = r.filter(c.within(r.treatment_started_on, 3))
    days = started.treatment_started_on.delta(started.clock_start, unit="day")
    return started.select("patient_id", numerator=_flag(days <= 14), denominator=ONE, measure=days)


def ips_access(c: Cohort) -> ibis.Table:
    """People whose IPS employment support started (first attended contact) in the 12 months."""
    r = _referrals(c, ("ips",))
    started = r.filter(c.within(r.first_contact_on, 12)).select("patient_id").distinct()
    return started.mutate(numerator=ONE, denominator=ONE)


def _assessment_waits(c: Cohort) -> ibis.Table:
    """Community mental health referrals assessed in the 3 months, with the wait in days from
    the first referral."""
    r = _referrals(c, ("cmht",))
    assessed = r.filter(c.within(r.assessed_on, 3))
    days = assessed.assessed_on.delta(assessed.clock_start, unit="day")
    return assessed.select("patient_id", numerator=_flag(days <= 28), denominator=ONE, measure=days)


wait_assessment_median = _assessment_waits
wait_assessment_p90 = _assessment_waits
wait_assessment_4_weeks = _assessment_waits

SPECIALIST_PATHWAYS = ("cmht", "eip", "psych_therapies", "ips", "crisis")


def newly_diagnosed_not_referred(c: Cohort) -> ibis.Table:
    """People first diagnosed with SMI 3 to 15 months before the reporting date (time to be
    referred): never referred to a specialist mental health service from 90 days before the
    diagnosis up to the reporting date."""
    first = c.events("diagnosis").group_by("patient_id").aggregate(first=_.date.min())
    window_end = lit(c.period.months_before_end(3))
    window_start = lit(c.period.months_before_end(15))
    new = first.filter((first.first > window_start) & (first.first <= window_end))
    r = _referrals(c, SPECIALIST_PATHWAYS)
    r = r.filter(r.clock_start <= c.end)
    hit = new.inner_join(r, [new.patient_id == r.patient_id, r.clock_start.delta(new.first, unit="day") >= -90])
    referred = hit.select(patient_id=new.patient_id).distinct().mutate(referred=ONE)
    rows = attach(new.select("patient_id"), referred)
    return rows.select("patient_id", numerator=_flag(rows.referred.isnull()), denominator=ONE)


def dialog_change(c: Cohort) -> ibis.Table:
    """People with two or more DIALOG ratings on different days in the 12 months: change from the
    first to the latest in the mean life-satisfaction score (8 items rated 1–7), in eighths of a
    point so the figure is exact; the numerator is those who improved."""
    q = c.t.questionnaire_responses
    rated = q.filter((q.instrument == "dialog") & q.score.notnull() & c.within(q.date, 12))
    latest = latest_per_patient(rated, value="score", name="last")
    first_day = rated.group_by("patient_id").aggregate(first=_.date.min())
    on_first = rated.inner_join(first_day, [rated.patient_id == first_day.patient_id, rated.date == first_day.first])
    # The largest value of a day decides, as for the latest rating (docs/indicators.md).
    first = on_first.group_by("patient_id").aggregate(first=_.first.min(), first_value=_.score.max())
    both = latest.inner_join(first, "patient_id").filter(_.last > _.first)
    change = ((both.last_value - both.first_value) * 8).round().cast("int64")
    return both.select("patient_id", numerator=_flag(change > 0), denominator=ONE, measure=change)


def continuity_key_worker(c: Cohort) -> ibis.Table:
    """Attended contacts in the 12 months that were with the episode's named key worker."""
    contacts = _attended(c)
    episodes = c.t.episodes.select("episode_id", "key_worker_id")
    rows = contacts.inner_join(episodes, "episode_id")
    return rows.select("patient_id", numerator=_flag(rows.staff_id == rows.key_worker_id), denominator=ONE)


def continuity_bice_boxerman(c: Cohort) -> ibis.Table:
    """Bice-Boxerman continuity of care index per person with two or more attended contacts in
    the 12 months: (Σ nⱼ² − N) / (N(N − 1)), nⱼ contacts with staff member j, N in all. Passed
    as N (`measure`) and Σ nⱼ² (`measure2`) so the index is computed exactly."""
    per_staff = _attended(c).group_by(["patient_id", "staff_id"]).aggregate(n=_.count())
    per_person = per_staff.group_by("patient_id").aggregate(total=_.n.sum(), squares=(_.n * _.n).sum())
    two = per_person.filter(per_person.total >= 2)
    return two.select("patient_id", numerator=ONE, denominator=ONE, measure=_.total, measure2=_.squares)


# --- case-finding ----------------------------------------------------------------------------


def case_finding_medication_no_diagnosis(c: Cohort) -> ibis.Table:
    """People issued an antipsychotic or lithium in the 12 months with no SMI code ever."""
    treated = c.events("antipsychotic_or_lithium", months=12, table="medications").select("patient_id").distinct()
    coded = c.events("any_mh").select("patient_id").distinct().mutate(coded=ONE)
    rows = attach(treated, coded)
    return rows.filter(rows.coded.isnull()).select("patient_id", numerator=ONE, denominator=ONE)


def case_finding_no_contact(c: Cohort) -> ibis.Table:
    """People on the register with no coded event, medication or attended contact in 12 months."""
    seen = [
        c.t.clinical_events.filter(c.within(c.t.clinical_events.date, 12)).select("patient_id"),
        c.t.medications.filter(c.within(c.t.medications.date, 12)).select("patient_id"),
        _attended(c).select("patient_id"),
    ]
    recent = ibis.union(*seen, distinct=True).mutate(seen=ONE)
    rows = attach(c.register.select("patient_id"), recent)
    return rows.select("patient_id", numerator=_flag(rows.seen.isnull()), denominator=ONE)


def case_finding_remission_on_antipsychotics(c: Cohort) -> ibis.Table:
    """People whose latest SMI code is a remission code while antipsychotics continue (issued
    after the remission, in the last 6 months)."""
    remission = latest_per_patient(c.events("remission"), name="remission")
    diagnosed = latest_per_patient(c.events("diagnosis"), name="diagnosed")
    current = attach(remission, diagnosed)
    current = current.filter(current.diagnosed.isnull() | (current.diagnosed < current.remission))
    issued = latest_per_patient(c.events("antipsychotic", months=6, table="medications"), name="issued")
    rows = current.inner_join(issued, "patient_id").filter(_.issued > _.remission)
    return rows.select("patient_id", numerator=ONE, denominator=ONE)
