"""The one access policy.

A membership may act on a patient when (1) its role grants the permission, (2) there is a
legitimate relationship between the patient and the membership's organisation, and (3) the
patient's consent allows that kind of organisation to see their data.

Relationships come from providers: functions from a membership to a `Q` over patients. The
foundation registers registration scope and care-team entries; later apps (referrals, episodes)
register their own through `register_relationship` in their AppConfig.ready, so there is only
ever one mechanism deciding who sees whom.
"""

import functools
from collections.abc import Callable

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from concerto.access import audit
from concerto.access.models import AuditAction, CareTeamEntry, Consent, Membership
from concerto.access.permissions import Permission
from concerto.access.roles import Scope
from concerto.core import clock
from concerto.core.errors import NotPermitted
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
    today = clock.today()
    # Current registration, or the registration that ended with the patient's death (the
    # practice keeps responsibility for the record of someone who died on its list).
    current = Registration.objects.filter(patient=OuterRef("pk"), start__lte=today).filter(
        Q(end__isnull=True) | Q(end__gte=today) | Q(end__gte=OuterRef("date_of_death"))
    )
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


# Consent is asked about kinds of service as a patient understands them: a trust and its teams
# are one "mental health services" decision.
CONSENT_KIND = {OrganisationKind.MH_TRUST: OrganisationKind.MH_TEAM}


def consent_kind(organisation_kind: str) -> str:
    return CONSENT_KIND.get(organisation_kind, organisation_kind)  # type: ignore[call-overload]


def _consent(membership: Membership) -> Q:
    kind = consent_kind(membership.organisation.kind)
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


def require_access(membership: Membership, patient: Patient, permission: Permission, *, what: str) -> None:
    """Raise NotPermitted (after auditing the refusal) unless the membership may act on the patient.

    Actions call this before writing; views turn NotPermitted about a patient into a 404.
    """
    if not can_access_patient(membership, patient, permission):
        audit.record(
            by=membership,
            action=AuditAction.DENIED,
            what=what,
            patient=patient,
            detail={"permission": str(permission)},
        )
        raise NotPermitted("You do not have access to this patient's record.")


def patient_action(permission: Permission, what: str):
    """Decorate an action on one patient (keyword arguments `patient` and `by`).

    The access check, and the audit of a refusal, happen *before* the action's transaction
    opens, so a refused attempt leaves its audit record; the action body runs atomically.
    """

    def decorator(action):
        atomic_action = transaction.atomic(action)

        @functools.wraps(action)
        def wrapper(*, patient: Patient, by: Membership, **kwargs):
            require_access(by, patient, permission, what=what)
            return atomic_action(patient=patient, by=by, **kwargs)

        return wrapper

    return decorator
