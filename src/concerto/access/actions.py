import datetime as dt

from django.db import transaction

from concerto.access import audit
from concerto.access.models import AuditAction, CareTeamEntry, Consent, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import consent_kind, has_permission, patient_action, require_access
from concerto.access.roles import ROLES
from concerto.core import clock
from concerto.core.errors import InvalidInput, NotPermitted
from concerto.organisations.models import Organisation, OrganisationKind
from concerto.people.models import Patient


@transaction.atomic
def add_membership(*, user, organisation: Organisation, role: str, by: Membership | None) -> Membership:
    """Give a user a role at an organisation. `by=None` is the set-up command acting as the system."""
    if by is not None and not has_permission(by, Permission.REFERENCE_DATA_ADMIN):
        raise NotPermitted("Only a system administrator can add memberships.")
    definition = ROLES.get(role)
    if definition is None:
        raise InvalidInput(f"Unknown role {role!r}.")
    if organisation.kind not in definition.organisation_kinds:
        raise InvalidInput(f"A {definition.title} cannot be held at a {organisation.get_kind_display()}.")
    membership, _ = Membership.objects.update_or_create(
        user=user, organisation=organisation, role=role, defaults={"is_active": True}
    )
    return membership


@patient_action(Permission.CARE_TEAM_MANAGE, what="care_team_entry")
def add_to_care_team(
    *,
    patient: Patient,
    organisation: Organisation,
    role_in_care: str = "",
    start: dt.date | None = None,
    by: Membership,
) -> CareTeamEntry:
    if CareTeamEntry.objects.filter(patient=patient, organisation=organisation, end__isnull=True).exists():
        raise InvalidInput(f"{organisation.name} is already in this patient's care team.")
    entry = CareTeamEntry.objects.create(
        patient=patient,
        organisation=organisation,
        role_in_care=role_in_care,
        start=start or clock.today(),
        added_by=by,
    )
    audit.record(
        by=by,
        action=AuditAction.CREATE,
        what="care_team_entry",
        patient=patient,
        detail={"organisation": organisation.code, "role_in_care": role_in_care},
    )
    return entry


@patient_action(Permission.CONSENT_RECORD, what="consent")
def record_consent(*, patient: Patient, organisation_kind: str, granted: bool, by: Membership) -> Consent:
    if organisation_kind not in OrganisationKind.values:
        raise InvalidInput(f"Unknown organisation kind {organisation_kind!r}.")
    organisation_kind = consent_kind(organisation_kind)  # e.g. a trust shares its teams' decision
    consent, _ = Consent.objects.update_or_create(
        patient=patient,
        organisation_kind=organisation_kind,
        defaults={"granted": granted, "recorded_at": clock.now(), "recorded_by": by},
    )
    audit.record(
        by=by,
        action=AuditAction.UPDATE,
        what="consent",
        patient=patient,
        detail={"organisation_kind": organisation_kind, "granted": granted},
    )
    return consent


def record_sharing_agreement(*, patient: Patient, organisation_kind: str, by: Membership) -> Consent:
    """The patient agreed, in conversation with a member of staff who has a relationship with them,
    to share with a kind of organisation (e.g. when referring them to a VCSE partner)."""
    require_access(by, patient, Permission.PATIENT_VIEW_DEMOGRAPHICS, what="consent")
    kind = consent_kind(organisation_kind)
    consent, _ = Consent.objects.update_or_create(
        patient=patient,
        organisation_kind=kind,
        defaults={"granted": True, "recorded_at": clock.now(), "recorded_by": by},
    )
    audit.record(
        by=by,
        action=AuditAction.UPDATE,
        what="consent",
        patient=patient,
        detail={"organisation_kind": kind, "granted": True, "context": "referral"},
    )
    return consent
