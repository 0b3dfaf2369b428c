from django.db import models


class OrganisationKind(models.TextChoices):
    ICB = "icb", "Integrated care board"
    PCN = "pcn", "Primary care network"
    GP_PRACTICE = "gp_practice", "GP practice"
    MH_TRUST = "mh_trust", "Mental health trust"
    MH_TEAM = "mh_team", "Mental health team"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    VCSE = "vcse", "Voluntary, community or social enterprise organisation"


class TeamType(models.TextChoices):
    COMMUNITY_MENTAL_HEALTH = "cmht", "Community mental health team"
    EARLY_INTERVENTION_PSYCHOSIS = "eip", "Early intervention in psychosis"
    IPS_EMPLOYMENT = "ips", "Individual placement and support (employment)"
    CRISIS = "crisis", "Crisis resolution and home treatment"
    PSYCHOLOGICAL_THERAPIES = "psych_therapies", "Psychological therapies for SMI"


# Which kind of parent each kind may have (ODS hierarchy: ICB → PCN → practice; trust → team).
ALLOWED_PARENTS: dict[str, set[str]] = {
    OrganisationKind.ICB: set(),
    OrganisationKind.PCN: {OrganisationKind.ICB},
    OrganisationKind.GP_PRACTICE: {OrganisationKind.PCN},
    OrganisationKind.MH_TRUST: {OrganisationKind.ICB},
    OrganisationKind.MH_TEAM: {OrganisationKind.MH_TRUST},
    OrganisationKind.LOCAL_AUTHORITY: {OrganisationKind.ICB},
    OrganisationKind.VCSE: {OrganisationKind.ICB},
}


class Organisation(models.Model):
    code = models.CharField(
        "ODS code",
        max_length=12,
        unique=True,
        help_text="ODS-style code, e.g. Y90001 (practice), U12345 (PCN), QHM (ICB).",
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices, db_index=True)
    team_type = models.CharField(max_length=20, choices=TeamType.choices, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # A CMHT is aligned to a PCN in the community mental health framework.
    aligned_pcn = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="aligned_teams",
        limit_choices_to={"kind": OrganisationKind.PCN},
    )
    postcode = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="team_type_only_for_mh_teams",
                condition=(models.Q(kind=OrganisationKind.MH_TEAM) & ~models.Q(team_type=""))
                | (~models.Q(kind=OrganisationKind.MH_TEAM) & models.Q(team_type="")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_nhs(self) -> bool:
        return self.kind not in (OrganisationKind.LOCAL_AUTHORITY, OrganisationKind.VCSE)
