from django.db import models


class Status(models.TextChoices):
    RECEIVED = "received", "Received"
    TRIAGED = "triaged", "Triaged"
    ACCEPTED = "accepted", "Accepted"
    ASSESSED = "assessed", "Assessed"
    IN_TREATMENT = "in_treatment", "In support or treatment"
    COMPLETED = "completed", "Completed"
    REDIRECTED = "redirected", "Redirected"
    DECLINED_BY_PATIENT = "declined_by_patient", "Declined by the patient"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_STATUSES = (Status.RECEIVED, Status.TRIAGED, Status.ACCEPTED, Status.ASSESSED, Status.IN_TREATMENT)
NAMED_PERSON_STATUSES = (Status.ACCEPTED, Status.ASSESSED, Status.IN_TREATMENT)


class Source(models.TextChoices):
    PROFESSIONAL = "professional", "Professional referral"
    SELF = "self", "Self-referral"
    REDIRECT = "redirect", "Redirected from another service"


class Referral(models.Model):
    """A referral to one service. There is no "rejected": it is accepted, redirected with a
    hand-over to a named destination (creating the onward referral), declined by the patient, or
    withdrawn. While open it always has an owning team, and once accepted a named person."""

    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="referrals")
    pathway = models.CharField(max_length=20)
    destination = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="referrals_in",
        help_text="The owning team or organisation.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.PROFESSIONAL)
    referrer = models.ForeignKey(
        "access.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals_made"
    )
    reason = models.TextField()
    # The clock starts at the first referral and keeps running across redirects.
    clock_start = models.DateField()
    received_on = models.DateField()
    first_contact_on = models.DateField(null=True, blank=True)
    assessed_on = models.DateField(null=True, blank=True)
    treatment_started_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    named_person = models.ForeignKey(
        "access.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals_owned"
    )
    triage_rationale = models.TextField(blank=True)
    handover_note = models.TextField(blank=True)
    closing_reason = models.TextField(blank=True)
    redirected_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="redirected_to"
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # Optimistic locking: every change bumps the version; a change made against an old version fails.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["destination", "status"]), models.Index(fields=["patient", "status"])]
        constraints = [
            models.CheckConstraint(
                name="named_person_once_accepted",
                condition=~models.Q(status__in=[s.value for s in NAMED_PERSON_STATUSES])
                | models.Q(named_person__isnull=False),
            ),
            models.CheckConstraint(
                name="closed_referrals_have_a_date",
                condition=models.Q(status__in=[s.value for s in OPEN_STATUSES]) | models.Q(closed_on__isnull=False),
            ),
            models.CheckConstraint(
                name="clock_starts_first", condition=models.Q(clock_start__lte=models.F("received_on"))
            ),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk} to {self.destination_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def pathway_label(self) -> str:
        from concerto.referrals.standards import load

        standard = load().get(self.pathway)
        return standard.label if standard else self.pathway


class ReferralEvent(models.Model):
    """The referral's history: every transition, who made it and why."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    at = models.DateTimeField()
    by = models.ForeignKey("access.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status}"


class Episode(models.Model):
    """An episode of care with a team, opened when a referral is accepted."""

    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="episodes")
    team = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="episodes")
    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="episode")
    key_worker = models.ForeignKey("access.Membership", on_delete=models.PROTECT, related_name="caseload")
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="episode_closes_after_opening",
                condition=models.Q(closed_on__isnull=True) | models.Q(closed_on__gte=models.F("opened_on")),
            )
        ]

    def __str__(self) -> str:
        return f"Episode {self.pk} with {self.team_id}"


class ContactOutcome(models.TextChoices):
    ATTENDED = "attended", "Attended"
    DID_NOT_ATTEND = "dna", "Did not attend"
    CANCELLED = "cancelled", "Cancelled"


class Contact(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="contacts")
    date = models.DateField()
    outcome = models.CharField(max_length=10, choices=ContactOutcome.choices)
    with_member = models.ForeignKey("access.Membership", on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["episode", "date"])]

    def __str__(self) -> str:
        return f"{self.date} {self.outcome}"
