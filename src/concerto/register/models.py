from django.db import models


class FollowUpStatus(models.TextChoices):
    OFFERED = "offered", "Offered"
    DECLINED = "declined", "Declined"
    COMPLETED = "completed", "Completed"


class FollowUp(models.Model):
    """A follow-up intervention after an abnormal result (kinds come from the rules file)."""

    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="follow_ups")
    kind = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=FollowUpStatus.choices)
    date = models.DateField()
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey("access.Membership", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["patient", "kind", "date"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} on {self.date}"


class Channel(models.TextChoices):
    SMS = "sms", "Text message"
    LETTER = "letter", "Letter"
    PHONE = "phone", "Telephone"
    IN_PERSON = "in_person", "In person"


class InvitationStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to send"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Could not send"


class Response(models.TextChoices):
    NONE = "none", "No response yet"
    BOOKED = "booked", "Booked"
    ATTENDED = "attended", "Attended"
    DECLINED = "declined", "Declined"
    DID_NOT_ATTEND = "dna", "Did not attend"


class InvitationBatch(models.Model):
    """A bulk invitation run. Its invitations are created queued, then sent in chunks, so the
    run shows progress, survives the person leaving the page, and loses nobody."""

    channel = models.CharField(max_length=10, choices=Channel.choices)
    created_by = models.ForeignKey("access.Membership", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Invitation batch {self.pk} ({self.channel})"


class Invitation(models.Model):
    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="phc_invitations")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.QUEUED)
    sent_on = models.DateField(null=True, blank=True)
    response = models.CharField(max_length=10, choices=Response.choices, default=Response.NONE)
    responded_on = models.DateField(null=True, blank=True)
    notification_id = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=300, blank=True)
    batch = models.ForeignKey(
        InvitationBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="invitations"
    )
    invited_by = models.ForeignKey("access.Membership", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["patient", "sent_on"]), models.Index(fields=["batch", "status"])]
        constraints = [
            models.CheckConstraint(
                name="sent_invitation_has_date",
                condition=~models.Q(status="sent") | models.Q(sent_on__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} invitation ({self.status})"
