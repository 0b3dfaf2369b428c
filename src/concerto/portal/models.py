from django.db import models


class SignInLink(models.Model):
    """A one-time link that signs a patient in to the portal. Only a hash of the token is kept, so a
    copy of the database cannot be used to sign in; the link works once, for a short time."""

    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # How the link reached the patient ("sms", or "issued" when a member of staff handed it over).
    sent_by = models.CharField(max_length=10)

    class Meta:
        indexes = [models.Index(fields=["patient", "created_at"])]

    def __str__(self) -> str:
        return f"Sign-in link for patient {self.patient_id} ({'used' if self.used_at else 'unused'})"
