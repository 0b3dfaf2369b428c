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
