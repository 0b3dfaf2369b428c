from django.db.models import Exists, OuterRef, Q

from concerto.access.models import Membership
from concerto.referrals.models import OPEN_STATUSES, Episode, Referral


def open_referral_or_episode(membership: Membership) -> Q:
    """An open referral to, or an open episode with, the member's organisation."""
    org = membership.organisation_id
    referrals = Referral.objects.filter(patient=OuterRef("pk"), destination_id=org, status__in=OPEN_STATUSES)
    episodes = Episode.objects.filter(patient=OuterRef("pk"), team_id=org, closed_on__isnull=True)
    return Q(Exists(referrals)) | Q(Exists(episodes))
