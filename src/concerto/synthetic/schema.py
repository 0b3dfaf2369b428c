"""The extract schema: the contract between the app, feeds and analytics (docs/extract-schema.md).

Tables are Parquet files named `<table>.parquet`. Codes are dictionary-encoded strings; dates are
calendar dates; `patient_id` is a pseudonymous integer stable within one extract.
"""

import pyarrow as pa

CODE = pa.dictionary(pa.int32(), pa.string())

SCHEMA: dict[str, pa.Schema] = {
    "organisations": pa.schema(
        [
            ("code", pa.string()),
            ("name", pa.string()),
            ("kind", pa.string()),
            ("team_type", pa.string()),
            ("parent_code", pa.string()),
            ("aligned_pcn_code", pa.string()),
            ("postcode", pa.string()),
        ]
    ),
    "staff": pa.schema(
        [
            ("username", pa.string()),
            ("given_name", pa.string()),
            ("family_name", pa.string()),
            ("role", pa.string()),
            ("organisation_code", pa.string()),
        ]
    ),
    "patients": pa.schema(
        [
            ("patient_id", pa.int64()),
            ("nhs_number", pa.string()),
            ("given_name", pa.string()),
            ("family_name", pa.string()),
            ("date_of_birth", pa.date32()),
            ("sex", pa.string()),
            ("ethnicity", pa.string()),
            ("ethnic_group", pa.string()),
            ("postcode", pa.string()),
            ("lsoa", pa.string()),
            ("imd_decile", pa.int8()),
            ("date_of_death", pa.date32()),
        ]
    ),
    # Direct-care contact details (invitations). Never part of an analytic extract.
    "patient_contacts": pa.schema(
        [
            ("patient_id", pa.int64()),
            ("mobile_phone", pa.string()),
            ("address", pa.string()),
        ]
    ),
    "registrations": pa.schema(
        [
            ("patient_id", pa.int64()),
            ("practice_code", CODE),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
        ]
    ),
    "clinical_events": pa.schema(
        [
            ("patient_id", pa.int64()),
            ("code", CODE),
            ("date", pa.date32()),
            ("value", pa.float64()),
            ("unit", CODE),
            ("source_org_code", CODE),
        ]
    ),
    "medications": pa.schema(
        [
            ("patient_id", pa.int64()),
            ("code", CODE),
            ("date", pa.date32()),
            ("source_org_code", CODE),
        ]
    ),
}

# Care: referrals between services, episodes of care with a key worker, and contacts. Ids are
# pseudonymous integers stable within one extract; `staff_id` and `key_worker_id` identify a staff
# member's role in the extract only, never by name.
SCHEMA |= {
    "referrals": pa.schema(
        [
            ("referral_id", pa.int64()),
            ("patient_id", pa.int64()),
            ("pathway", CODE),
            ("destination_code", CODE),
            ("source", CODE),
            ("status", CODE),
            ("clock_start", pa.date32()),
            ("received_on", pa.date32()),
            ("first_contact_on", pa.date32()),
            ("assessed_on", pa.date32()),
            ("treatment_started_on", pa.date32()),
            ("closed_on", pa.date32()),
            ("redirected_from_id", pa.int64()),
        ]
    ),
    "episodes": pa.schema(
        [
            ("episode_id", pa.int64()),
            ("patient_id", pa.int64()),
            ("referral_id", pa.int64()),
            ("team_code", CODE),
            ("key_worker_id", pa.int64()),
            ("opened_on", pa.date32()),
            ("closed_on", pa.date32()),
        ]
    ),
    "contacts": pa.schema(
        [
            ("contact_id", pa.int64()),
            ("episode_id", pa.int64()),
            ("patient_id", pa.int64()),
            ("date", pa.date32()),
            ("outcome", CODE),
            ("staff_id", pa.int64()),
        ]
    ),
    # Follow-up interventions after an abnormal health-check result (register.FollowUp).
    "interventions": pa.schema(
        [
            ("patient_id", pa.int64()),
            ("kind", CODE),
            ("status", CODE),
            ("date", pa.date32()),
        ]
    ),
    "care_plans": pa.schema(
        [
            ("care_plan_id", pa.int64()),
            ("patient_id", pa.int64()),
            ("version", pa.int32()),
            ("status", CODE),
            ("agreed_on", pa.date32()),
            ("review_due_on", pa.date32()),
            ("has_crisis_plan", pa.bool_()),
            ("organisation_code", CODE),
        ]
    ),
    "questionnaire_responses": pa.schema(
        [
            ("response_id", pa.int64()),
            ("patient_id", pa.int64()),
            ("instrument", CODE),
            ("date", pa.date32()),
            ("score", pa.float64()),
        ]
    ),
}

# The tables analytics reads: everything but direct-care contact details and staff names.
ANALYTIC_TABLES: tuple[str, ...] = tuple(name for name in SCHEMA if name not in {"patient_contacts", "staff"})
