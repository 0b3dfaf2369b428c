from django.conf import settings
from django.db import models

from concerto.access.roles import ROLE_CHOICES, ROLES, Role
from concerto.organisations.models import OrganisationKind


class Membership(models.Model):
    """A user × organisation × role. A user acts as exactly one membership per session."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=40, choices=ROLE_CHOICES)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique")]
        ordering = ["organisation__name", "role"]

    def __str__(self) -> str:
        return f"{self.role_definition.title} at {self.organisation.name}"

    @property
    def role_definition(self) -> Role:
        return ROLES[self.role]


class CareTeamEntry(models.Model):
    """An organisation's place in a patient's care team: a legitimate relationship while open."""

    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="care_team")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="care_team_entries"
    )
    role_in_care = models.CharField(max_length=200, blank=True, help_text="e.g. key worker, peer support")
    start = models.DateField()
    end = models.DateField(null=True, blank=True)
    added_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="care_team_end_after_start",
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
            ),
            models.UniqueConstraint(
                fields=["patient", "organisation"],
                condition=models.Q(end__isnull=True),
                name="one_open_care_team_entry_per_organisation",
            ),
        ]
        verbose_name_plural = "care team entries"

    def __str__(self) -> str:
        return f"{self.organisation} in care team of patient {self.patient_id}"


class Consent(models.Model):
    """The patient's sharing decision for one kind of organisation (latest decision wins).

    NHS organisations share for direct care unless the patient dissents; local authorities and
    VCSE partners see nothing unless the patient agreed (see `access.policy.CONSENT_REQUIRED`).
    """

    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="consents")
    organisation_kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    granted = models.BooleanField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "organisation_kind"], name="one_consent_per_kind")]

    def __str__(self) -> str:
        verdict = "agreed" if self.granted else "refused"
        return f"Patient {self.patient_id} {verdict} sharing with {self.get_organisation_kind_display()}"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only: they cannot be updated.")

    def delete(self):
        raise PermissionError("Audit events are append-only: they cannot be deleted.")


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    SEARCH = "search", "Searched"
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DENIED = "denied", "Denied"


class AuditEvent(models.Model):
    """Append-only record of every read and write of patient data.

    Holds copies of identifiers, not foreign keys, so nothing deleted elsewhere breaks the trail.
    Database triggers (migration 0002) refuse UPDATE and DELETE as well as this model's methods.
    """

    at = models.DateTimeField(db_index=True)
    user_id = models.BigIntegerField(null=True)
    username = models.CharField(max_length=150)
    membership_id = models.BigIntegerField(null=True)
    organisation_code = models.CharField(max_length=12, blank=True)
    role = models.CharField(max_length=40, blank=True)
    patient_id = models.BigIntegerField(null=True, db_index=True)
    nhs_number = models.CharField(max_length=10, blank=True)
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    what = models.CharField(max_length=100, help_text="What was read or written, e.g. patient_summary")
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.what}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit events are append-only: they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only: they cannot be deleted.")
