from django.db.models import Exists, OuterRef, Q

from concerto.access.models import Membership
from concerto.access.permissions import Permission
from concerto.referrals.models import OPEN_STATUSES, Episode, Referral


def open_referral_or_episode(membership: Membership) -> Q:
    """An open referral to, or an open episode with, the member's organisation."""
    org = membership.organisation_id
    referrals = Referral.objects.filter(patient=OuterRef("pk"), destination_id=org, status__in=OPEN_STATUSES)
    episodes = Episode.objects.filter(patient=OuterRef("pk"), team_id=org, closed_on__isnull=True)
    relationship = Q(Exists(referrals)) | Q(Exists(episodes))
    if membership.role_definition.has(Permission.REFERRAL_MANAGE):
        # The PCN triage hub decides referrals to the teams aligned to its PCN.
        hub = Referral.objects.filter(patient=OuterRef("pk"), destination__aligned_pcn_id=org, status__in=OPEN_STATUSES)
        relationship |= Q(Exists(hub))
    return relationship
