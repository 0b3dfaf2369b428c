"""The app's own tables seen as the extract schema: one SELECT per extract table.

The one place that knows both sides. `engines.live_database()` turns these into temporary views
so indicators run inside the app's database; `concerto extract` runs the same queries and writes
Parquet. Pseudonymised as the schema asks for an analytic extract: `patient_id` is the database
key (never an NHS number), no names, NHS numbers, postcodes or contact details, and staff appear
only as membership ids. Written in the SQL that SQLite and PostgreSQL share.
"""

from __future__ import annotations

from django.apps import apps

from concerto.synthetic.schema import ANALYTIC_TABLES

ETHNIC_GROUP = (
    "CASE SUBSTR(p.ethnicity, 1, 1) WHEN 'A' THEN 'asian' WHEN 'B' THEN 'black' WHEN 'M' THEN 'mixed' "
    "WHEN 'W' THEN 'white' WHEN 'O' THEN 'other' ELSE 'not_stated' END"
)

_QUERIES = {
    "organisations": (
        "SELECT o.code AS code, o.name AS name, o.kind AS kind, o.team_type AS team_type, "
        "COALESCE(parent.code, '') AS parent_code, COALESCE(pcn.code, '') AS aligned_pcn_code, "
        "o.postcode AS postcode "
        "FROM organisations_organisation o "
        "LEFT JOIN organisations_organisation parent ON parent.id = o.parent_id "
        "LEFT JOIN organisations_organisation pcn ON pcn.id = o.aligned_pcn_id"
    ),
    "patients": (
        "SELECT p.id AS patient_id, CAST(NULL AS VARCHAR(10)) AS nhs_number, '' AS given_name, "  # noqa: S608
        "'' AS family_name, p.date_of_birth AS date_of_birth, p.sex AS sex, p.ethnicity AS ethnicity, "
        + ETHNIC_GROUP
        + " AS ethnic_group, '' AS postcode, p.lsoa AS lsoa, p.imd_decile AS imd_decile, "
        "p.date_of_death AS date_of_death FROM people_patient p"
    ),
    "registrations": (
        'SELECT r.patient_id AS patient_id, o.code AS practice_code, r.start AS start_date, r."end" AS end_date '
        "FROM people_registration r JOIN organisations_organisation o ON o.id = r.practice_id"
    ),
    "clinical_events": (
        "SELECT e.patient_id AS patient_id, e.code AS code, e.date AS date, "
        "CAST(e.value AS DOUBLE PRECISION) AS value, e.unit AS unit, "
        "COALESCE(o.code, '') AS source_org_code "
        "FROM records_clinicalevent e LEFT JOIN organisations_organisation o ON o.id = e.source_organisation_id"
    ),
    "medications": (
        "SELECT m.patient_id AS patient_id, m.code AS code, m.date AS date, COALESCE(o.code, '') AS source_org_code "
        "FROM records_medicationissue m LEFT JOIN organisations_organisation o ON o.id = m.source_organisation_id"
    ),
    "referrals": (
        "SELECT r.id AS referral_id, r.patient_id AS patient_id, r.pathway AS pathway, "
        "o.code AS destination_code, r.source AS source, r.status AS status, r.clock_start AS clock_start, "
        "r.received_on AS received_on, r.first_contact_on AS first_contact_on, r.assessed_on AS assessed_on, "
        "r.treatment_started_on AS treatment_started_on, r.closed_on AS closed_on, "
        "r.redirected_from_id AS redirected_from_id "
        "FROM referrals_referral r JOIN organisations_organisation o ON o.id = r.destination_id"
    ),
    "episodes": (
        "SELECT e.id AS episode_id, e.patient_id AS patient_id, e.referral_id AS referral_id, "
        "o.code AS team_code, e.key_worker_id AS key_worker_id, e.opened_on AS opened_on, e.closed_on AS closed_on "
        "FROM referrals_episode e JOIN organisations_organisation o ON o.id = e.team_id"
    ),
    "contacts": (
        "SELECT c.id AS contact_id, c.episode_id AS episode_id, e.patient_id AS patient_id, c.date AS date, "
        "c.outcome AS outcome, c.with_member_id AS staff_id "
        "FROM referrals_contact c JOIN referrals_episode e ON e.id = c.episode_id"
    ),
    "interventions": (
        "SELECT f.patient_id AS patient_id, f.kind AS kind, f.status AS status, f.date AS date FROM register_followup f"
    ),
}

# Care plans (the care and support plan's versions) and questionnaire responses with their
# headline score (DIALOG: the mean of the 8 life-domain items; PHQ-9, GAD-7: the total).
_CARE_PLANS = (
    "SELECT v.id AS care_plan_id, v.patient_id AS patient_id, v.number AS version, v.status AS status, "
    "v.agreed_on AS agreed_on, CAST(NULL AS DATE) AS review_due_on, "
    "CASE WHEN EXISTS (SELECT 1 FROM careplans_planversion c WHERE c.patient_id = v.patient_id "
    "AND c.kind = 'crisis' AND c.status = 'agreed') THEN 1 = 1 ELSE 1 = 0 END AS has_crisis_plan, "
    "o.code AS organisation_code FROM careplans_planversion v "
    "JOIN access_membership m ON m.id = v.saved_by_id JOIN organisations_organisation o ON o.id = m.organisation_id "
    "WHERE v.kind = 'care'"
)
_SCORE = {
    "sqlite": "COALESCE(json_extract(r.scores, '$.quality_of_life.value'), json_extract(r.scores, '$.total.value'))",
    "postgresql": "COALESCE(r.scores -> 'quality_of_life' ->> 'value', r.scores -> 'total' ->> 'value')",
}
_RESPONSES = (
    "SELECT r.id AS response_id, r.patient_id AS patient_id, r.questionnaire_key AS instrument, "
    "r.completed_on AS date, CAST({score} AS DOUBLE PRECISION) AS score FROM outcomes_questionnaireresponse r"
)

# Tables whose app side is not built: typed and empty, so indicators still run.
_EMPTY = {
    "care_plans": (
        "SELECT CAST(NULL AS BIGINT) AS care_plan_id, CAST(NULL AS BIGINT) AS patient_id, "
        "CAST(NULL AS INTEGER) AS version, CAST(NULL AS VARCHAR(20)) AS status, CAST(NULL AS DATE) AS agreed_on, "
        "CAST(NULL AS DATE) AS review_due_on, CAST(NULL AS BOOLEAN) AS has_crisis_plan, "
        "CAST(NULL AS VARCHAR(20)) AS organisation_code WHERE 1 = 0"
    ),
    "questionnaire_responses": (
        "SELECT CAST(NULL AS BIGINT) AS response_id, CAST(NULL AS BIGINT) AS patient_id, "
        "CAST(NULL AS VARCHAR(20)) AS instrument, CAST(NULL AS DATE) AS date, "
        "CAST(NULL AS DOUBLE PRECISION) AS score WHERE 1 = 0"
    ),
}


def queries(vendor: str) -> dict[str, str]:
    """Extract table name → SELECT over the app's tables, for `vendor` ("sqlite" or "postgresql")."""
    found = {**_EMPTY, **_QUERIES}
    if app_has("careplans.PlanVersion"):
        found["care_plans"] = _CARE_PLANS
    if app_has("outcomes.QuestionnaireResponse"):
        found["questionnaire_responses"] = _RESPONSES.format(score=_SCORE[vendor])
    missing = set(ANALYTIC_TABLES) - set(found)
    if missing:  # pragma: no cover - a schema change without its mapping
        raise RuntimeError(f"no app mapping for extract tables {sorted(missing)}")
    if vendor == "sqlite":
        # SQLite has no DOUBLE PRECISION type name; REAL is its double.
        found = {k: v.replace("DOUBLE PRECISION", "REAL") for k, v in found.items()}
    return {name: found[name] for name in ANALYTIC_TABLES}


def app_has(model: str) -> bool:
    """Whether the app has `app_label.Model` (care plans and outcomes arrive with their issues)."""
    try:
        apps.get_model(model)
    except LookupError:
        return False
    return True
