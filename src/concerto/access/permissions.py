from enum import StrEnum


class Permission(StrEnum):
    """Everything a role can be allowed to do. Patient-level permissions also need a relationship."""

    PATIENT_SEARCH = "patient_search"
    PATIENT_VIEW_DEMOGRAPHICS = "patient_view_demographics"
    PATIENT_VIEW_CLINICAL = "patient_view_clinical"
    PATIENT_RECORD_CLINICAL = "patient_record_clinical"
    PATIENT_REGISTER = "patient_register"
    CARE_TEAM_MANAGE = "care_team_manage"
    CONSENT_RECORD = "consent_record"
    REFERRAL_MAKE = "referral_make"
    REFERRAL_MANAGE = "referral_manage"  # triage and act on referrals to one's own organisation
    PATIENT_CAREPLAN_VIEW = "patient_careplan_view"  # the shared care and support plan and crisis plan
    PATIENT_CAREPLAN_EDIT = "patient_careplan_edit"
    # Social prescribing: a link worker's caseload, "what matters to me" notes, wellbeing scores.
    PATIENT_SOCIAL_PRESCRIBING = "patient_social_prescribing"
    DIRECTORY_MANAGE = "directory_manage"  # maintain one's own organisation's community directory entries
    AGGREGATES_VIEW = "aggregates_view"
    REFERENCE_DATA_ADMIN = "reference_data_admin"
    AUDIT_VIEW = "audit_view"

    @property
    def is_patient_level(self) -> bool:
        return self.value.startswith(("patient_", "care_team_", "consent_", "referral_"))
