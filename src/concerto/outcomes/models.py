from django.db import models


class ResponseQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Questionnaire responses are kept as given: they cannot be updated.")


class QuestionnaireResponse(models.Model):
    """One completed questionnaire, kept as given: the definition's key, url and version, the
    answers (by linkId) and the scores worked out when it was recorded. A later change of a
    definition never rewrites what a patient answered or what it scored then."""

    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="questionnaire_responses")
    questionnaire_key = models.CharField(max_length=40)
    questionnaire_url = models.CharField(max_length=200)
    questionnaire_version = models.CharField(max_length=20)
    questionnaire_title = models.CharField(max_length=200)
    answers = models.JSONField()
    scores = models.JSONField(default=dict)
    completed_on = models.DateField()
    recorded_at = models.DateTimeField()
    # Staff who recorded it (a paper form, or asked in a session); empty when the patient
    # completed it themselves in the portal.
    recorded_by = models.ForeignKey(
        "access.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_by_patient = models.BooleanField(default=False)
    risk_flagged = models.BooleanField(default=False)
    # One per form shown: a double click or a retried request records one response (and one alert).
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["patient", "questionnaire_key", "completed_on"])]
        constraints = [
            models.CheckConstraint(
                name="response_has_an_author",
                condition=models.Q(recorded_by__isnull=False) | models.Q(completed_by_patient=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire_title} for patient {self.patient_id} on {self.completed_on}"


class RiskAlert(models.Model):
    """A risk answer (e.g. PHQ-9 question 9 above 'Not at all') waiting for the care team.

    Addressed to the patient's key workers and to the organisations caring for them (open
    episodes, care-team entries and always the registered practice, so it can never go nowhere).
    Open until someone with access acknowledges it, saying what they did."""

    response = models.OneToOneField(QuestionnaireResponse, on_delete=models.PROTECT, related_name="risk_alert")
    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="risk_alerts")
    reasons = models.JSONField(help_text="The risk rules the answers met, for staff only.")
    raised_at = models.DateTimeField()
    key_workers = models.ManyToManyField("access.Membership", related_name="risk_alerts", blank=True)
    organisations = models.ManyToManyField("organisations.Organisation", related_name="risk_alerts")
    notified = models.PositiveSmallIntegerField(default=0, help_text="Staff messages accepted for sending.")
    notification_failures = models.PositiveSmallIntegerField(default=0)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "access.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action_taken = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="risk_alert_acknowledged_with_who_and_what",
                condition=(
                    models.Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True, action_taken="")
                    | (
                        models.Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False)
                        & ~models.Q(action_taken="")
                    )
                ),
            )
        ]

    def __str__(self) -> str:
        return f"Risk alert {self.pk} for patient {self.patient_id}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None
