"""The one access policy.

A membership may act on a patient when (1) its role grants the permission, (2) there is a
legitimate relationship between the patient and the membership's organisation, and (3) the
patient's consent allows that kind of organisation to see their data.

Relationships come from providers: functions from a membership to a `Q` over patients. The
foundation registers registration scope and care-team entries; later apps (referrals, episodes)
register their own through `register_relationship` in their AppConfig.ready, so there is only
ever one mechanism deciding who sees whom.
"""

from collections.abc import Callable

from django.db.models import Exists, OuterRef, Q, QuerySet

from concerto.access.models import CareTeamEntry, Consent, Membership
from concerto.access.permissions import Permission
from concerto.access.roles import Scope
from concerto.core import clock
from concerto.organisations.models import OrganisationKind
from concerto.people.models import Patient, Registration

RelationshipProvider = Callable[[Membership], Q]
_providers: dict[str, RelationshipProvider] = {}

# Organisation kinds that see patient data only after the patient has agreed. NHS organisations
# share for direct care unless the patient has dissented.
CONSENT_REQUIRED = frozenset({OrganisationKind.LOCAL_AUTHORITY, OrganisationKind.VCSE})


def register_relationship(name: str, provider: RelationshipProvider) -> None:
    _providers[name] = provider


def relationship_names() -> list[str]:
    return sorted(_providers)


def _registration_scope(membership: Membership) -> Q:
    scope = membership.role_definition.scope
    current = Registration.objects.filter(patient=OuterRef("pk"), end__isnull=True)
    if scope == Scope.PRACTICE and membership.organisation.kind == OrganisationKind.GP_PRACTICE:
        return Q(Exists(current.filter(practice_id=membership.organisation_id)))
    if scope == Scope.PCN and membership.organisation.kind == OrganisationKind.PCN:
        return Q(Exists(current.filter(practice__parent_id=membership.organisation_id)))
    return Q(pk__in=[])


def _care_team(membership: Membership) -> Q:
    today = clock.today()
    entries = CareTeamEntry.objects.filter(
        patient=OuterRef("pk"),
        organisation_id=membership.organisation_id,
        start__lte=today,
    ).filter(Q(end__isnull=True) | Q(end__gte=today))
    return Q(Exists(entries))


register_relationship("registration", _registration_scope)
register_relationship("care_team", _care_team)


def _consent(membership: Membership) -> Q:
    kind = membership.organisation.kind
    decisions = Consent.objects.filter(patient=OuterRef("pk"), organisation_kind=kind)
    if kind in CONSENT_REQUIRED:
        return Q(Exists(decisions.filter(granted=True)))
    return ~Q(Exists(decisions.filter(granted=False)))


def has_permission(membership: Membership | None, permission: Permission) -> bool:
    return bool(membership and membership.is_active and membership.role_definition.has(permission))


def visible_patients(membership: Membership, permission: Permission) -> QuerySet[Patient]:
    """Every patient this membership may act on with `permission`; empty when it may not."""
    if not has_permission(membership, permission) or not permission.is_patient_level:
        return Patient.objects.none()
    relationship = Q(pk__in=[])
    for provider in _providers.values():
        relationship |= provider(membership)
    return Patient.objects.filter(relationship & _consent(membership))


def can_access_patient(membership: Membership, patient: Patient, permission: Permission) -> bool:
    return visible_patients(membership, permission).filter(pk=patient.pk).exists()
