"""Care and support plans and crisis plans, kept as immutable versions.

A plan is the list of its versions for one patient and one kind: every save writes a new version
numbered one more than the version the editor started from, and the (patient, kind, number)
constraint makes exactly one of two concurrent saves win. Nothing is ever updated or deleted, so
every version stays readable and any two can be compared.

The sections are JSON validated by the forms (`forms.py`), one schema per kind; `sections.py`
turns them into labelled text for display, comparison and print.
"""

from django.db import models
from django.db.models import Q


class Kind(models.TextChoices):
    CARE = "care", "Care and support plan"
    CRISIS = "crisis", "Crisis and relapse plan"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    AGREED = "agreed", "Agreed with the patient"


class AgreedHow(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    PHONE = "phone", "By phone"
    VIDEO = "video", "By video call"
    PORTAL = "portal", "Through the patient portal"
    LETTER = "letter", "By letter"


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Plan versions are never changed: save a new version instead.")

    def delete(self):
        raise PermissionError("Plan versions are kept: they cannot be deleted.")


class PlanVersion(models.Model):
    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="plan_versions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    number = models.PositiveIntegerField()
    content = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    # Agreement with the patient: who agreed (the patient, or someone on their behalf), when and how.
    agreed_with = models.CharField(max_length=200, blank=True)
    agreed_on = models.DateField(null=True, blank=True)
    agreed_how = models.CharField(max_length=20, choices=AgreedHow.choices, blank=True)
    change_note = models.CharField(max_length=500, blank=True)
    saved_by = models.ForeignKey("access.Membership", on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField()

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["patient", "kind", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "kind", "number"], name="plan_version_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="plan_version_from_one"),
            # An agreed version always says who agreed, when and how; a draft says none of it.
            models.CheckConstraint(
                condition=(
                    Q(status=PlanStatus.AGREED, agreed_on__isnull=False) & ~Q(agreed_with="") & ~Q(agreed_how="")
                )
                | Q(status=PlanStatus.DRAFT, agreed_on__isnull=True, agreed_with="", agreed_how=""),
                name="plan_version_agreement_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.number} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Plan versions are never changed: save a new version instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Plan versions are kept: they cannot be deleted.")

    @property
    def is_agreed(self) -> bool:
        return self.status == PlanStatus.AGREED


class ChangeRequest(models.Model):
    """A patient's request to change their plan, for the care team to act on."""

    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="plan_change_requests")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CARE)
    text = models.TextField()
    requested_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        "access.Membership", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, resolved_by__isnull=True)
                | Q(resolved_at__isnull=False, resolved_by__isnull=False),
                name="change_request_resolution_paired",
            )
        ]

    def __str__(self) -> str:
        return f"Change request {self.pk} ({'open' if self.resolved_at is None else 'resolved'})"
