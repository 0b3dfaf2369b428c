from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "concerto.referrals"
    label = "referrals"
    verbose_name = "Referrals, episodes and key workers"

    def ready(self) -> None:
        # An open referral or episode with the member's organisation is a legitimate relationship.
        from concerto.access.policy import register_relationship
        from concerto.referrals.relationships import open_referral_or_episode

        register_relationship("referral_or_episode", open_referral_or_episode)
