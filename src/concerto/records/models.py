from django.db import models


class ClinicalEvent(models.Model):
    """A SNOMED CT coded event: a diagnosis, finding, procedure or observation with a value."""

    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="clinical_events")
    code = models.CharField("SNOMED CT code", max_length=20)
    date = models.DateField()
    value = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    source_organisation = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["patient", "date"]),
            models.Index(fields=["code", "date"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="unit_only_with_value",
                condition=models.Q(value__isnull=False) | models.Q(unit=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.code} {self.value if self.value is not None else ''}{self.unit}"


class MedicationIssue(models.Model):
    """An issue of a dm+d product (VMP or AMP) to a patient."""

    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="medication_issues")
    code = models.CharField("dm+d code", max_length=20)
    date = models.DateField()
    source_organisation = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["patient", "date"]),
            models.Index(fields=["code", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.code}"
