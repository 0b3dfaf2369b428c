"""Roles as code. Each role's description is written to be read as information-governance
documentation: who holds it, what it allows and how far its reach over patients goes.

Patient scope says which patients a role reaches *by default*:
- PRACTICE: patients currently registered at the member's practice;
- PCN: patients currently registered at any practice of the member's PCN;
- RELATIONSHIP: only patients with a care-team entry, referral or episode for the member's organisation;
- NONE: no patient-level access (aggregates or reference data only).
Every role with patient access also reaches patients through a relationship (care team etc.).
"""

from dataclasses import dataclass
from enum import StrEnum

from concerto.access.permissions import Permission as P
from concerto.organisations.models import OrganisationKind as K


class Scope(StrEnum):
    PRACTICE = "practice"
    PCN = "pcn"
    RELATIONSHIP = "relationship"
    NONE = "none"


@dataclass(frozen=True)
class Role:
    key: str
    title: str
    description: str
    permissions: frozenset[P]
    organisation_kinds: frozenset[str]
    scope: Scope

    def has(self, permission: P) -> bool:
        return permission in self.permissions


_CLINICAL = frozenset(
    {
        P.PATIENT_SEARCH,
        P.PATIENT_VIEW_DEMOGRAPHICS,
        P.PATIENT_VIEW_CLINICAL,
        P.PATIENT_RECORD_CLINICAL,
        # The care and support plan and crisis plan are written with the patient by whoever cares for them.
        P.PATIENT_CAREPLAN_VIEW,
        P.PATIENT_CAREPLAN_EDIT,
    }
)
_DEMOGRAPHIC = frozenset({P.PATIENT_SEARCH, P.PATIENT_VIEW_DEMOGRAPHICS})
_MH = frozenset({K.MH_TEAM, K.MH_TRUST})

ROLES: dict[str, Role] = {
    r.key: r
    for r in [
        Role(
            "gp",
            "GP",
            "General practitioner. Sees and records the full record of patients registered at their "
            "practice, manages care teams and records consent.",
            _CLINICAL | {P.PATIENT_REGISTER, P.CARE_TEAM_MANAGE, P.CONSENT_RECORD, P.REFERRAL_MAKE},
            frozenset({K.GP_PRACTICE}),
            Scope.PRACTICE,
        ),
        Role(
            "practice_nurse",
            "Practice nurse",
            "Sees and records the clinical record of patients registered at their practice "
            "(physical health checks, recalls).",
            _CLINICAL | {P.REFERRAL_MAKE},
            frozenset({K.GP_PRACTICE}),
            Scope.PRACTICE,
        ),
        Role(
            "practice_admin",
            "Practice administrator",
            "Registers patients and sees demographics (not the clinical record) of patients "
            "registered at their practice; records consent decisions.",
            _DEMOGRAPHIC | {P.PATIENT_REGISTER, P.CONSENT_RECORD},
            frozenset({K.GP_PRACTICE}),
            Scope.PRACTICE,
        ),
        Role(
            "pcn_mh_practitioner",
            "PCN mental health practitioner",
            "Mental health practitioner employed across a primary care network (ARRS). Sees and "
            "records the clinical record of patients registered at any practice of the PCN.",
            _CLINICAL | {P.CARE_TEAM_MANAGE, P.REFERRAL_MAKE, P.REFERRAL_MANAGE},
            frozenset({K.PCN}),
            Scope.PCN,
        ),
        Role(
            "key_worker",
            "Key worker / care coordinator",
            "Named key worker. Sees and records the clinical record of patients whose care team, "
            "referral or episode includes their organisation.",
            _CLINICAL | {P.REFERRAL_MAKE, P.REFERRAL_MANAGE},
            frozenset({K.PCN, K.MH_TEAM, K.LOCAL_AUTHORITY, K.VCSE}),
            Scope.RELATIONSHIP,
        ),
        Role(
            "cmh_clinician",
            "Community mental health clinician",
            "Clinician in a mental health team (CMHT, early intervention, IPS, crisis, psychological "
            "therapies). Sees and records the record of patients with a relationship to their team.",
            _CLINICAL | {P.REFERRAL_MAKE, P.REFERRAL_MANAGE},
            _MH,
            Scope.RELATIONSHIP,
        ),
        Role(
            "team_manager",
            "Team manager",
            "Manages a mental health team: as a clinician, plus managing the team's care-team entries.",
            _CLINICAL | {P.CARE_TEAM_MANAGE, P.REFERRAL_MAKE, P.REFERRAL_MANAGE},
            _MH,
            Scope.RELATIONSHIP,
        ),
        Role(
            "link_worker",
            "Social prescribing link worker",
            "Connects people to community services. Sees demographics of patients registered in their "
            "PCN; no clinical record. Keeps a social prescribing caseload: what matters to the person, "
            "referrals to community services with their consent, wellbeing scores.",
            _DEMOGRAPHIC | {P.REFERRAL_MAKE, P.PATIENT_SOCIAL_PRESCRIBING},
            frozenset({K.PCN}),
            Scope.PCN,
        ),
        Role(
            "la_social_worker",
            "Local authority social worker",
            "Council social worker. Sees demographics and the shared clinical record of patients whose "
            "care team includes their council and who consented to sharing with local authorities.",
            _DEMOGRAPHIC
            | {P.PATIENT_VIEW_CLINICAL, P.REFERRAL_MAKE, P.REFERRAL_MANAGE}
            | {P.PATIENT_CAREPLAN_VIEW, P.PATIENT_CAREPLAN_EDIT},
            frozenset({K.LOCAL_AUTHORITY}),
            Scope.RELATIONSHIP,
        ),
        Role(
            "vcse_worker",
            "VCSE worker",
            "Worker in a voluntary or community organisation. Sees demographics and the shared care and "
            "crisis plans (not the clinical record) of patients "
            "whose care team includes their organisation and who consented to sharing with VCSE partners. "
            "Maintains their organisation's entries in the community services directory.",
            _DEMOGRAPHIC | {P.REFERRAL_MAKE, P.REFERRAL_MANAGE, P.DIRECTORY_MANAGE, P.PATIENT_CAREPLAN_VIEW},
            frozenset({K.VCSE}),
            Scope.RELATIONSHIP,
        ),
        Role(
            "icb_analyst",
            "ICB analyst",
            "Analyst or commissioner at the integrated care board. Sees suppressed aggregates only; "
            "never patient-level data.",
            frozenset({P.AGGREGATES_VIEW}),
            frozenset({K.ICB}),
            Scope.NONE,
        ),
        Role(
            "system_admin",
            "System administrator",
            "Maintains reference data (organisations, code lists) and reads the audit trail. No patient-level access.",
            frozenset({P.REFERENCE_DATA_ADMIN, P.AUDIT_VIEW}),
            frozenset(K.values),
            Scope.NONE,
        ),
    ]
}

ROLE_CHOICES = [(r.key, r.title) for r in ROLES.values()]


def get_role(key: str) -> Role:
    return ROLES[key]
