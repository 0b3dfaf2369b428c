"""API clients (systems acting through the access policy), bulk export jobs and the link between
records imported from another system and the rows they became."""

from django.db import models


class ApiClient(models.Model):
    """A system of one organisation, e.g. a practice's GP system. It acts as its own membership (a
    system user with a role at that organisation), so the same access policy and audit apply.

    The secret is shown once when the client is made; only its SHA-256 is kept (secrets are 256
    random bits, so a fast hash is enough: there is nothing to guess)."""

    client_id = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    membership = models.OneToOneField("access.Membership", on_delete=models.PROTECT, related_name="api_client")
    secret_hash = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"


class ExportJob(models.Model):
    """A FHIR bulk `$export` of a group (a practice's SMI register), run in the background. Only the
    membership that asked may poll it or fetch its files."""

    public_id = models.UUIDField(unique=True)
    requested_by = models.ForeignKey("access.Membership", on_delete=models.PROTECT, related_name="+")
    group = models.CharField(max_length=60, help_text="e.g. smi-register-Y90001")
    types = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    request_url = models.TextField()
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Export {self.public_id} of {self.group} ({self.status})"


class ExportFile(models.Model):
    """One NDJSON file of an export: all resources of one type."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=40)
    count = models.PositiveIntegerField()
    ndjson = models.TextField()

    def __str__(self) -> str:
        return f"{self.resource_type} ({self.count}) of {self.job_id}"


class ImportedRecord(models.Model):
    """A resource identifier from the sending system and the row it became, so that the same
    bundle sent twice finds its rows instead of making new ones. Identifiers belong to the sending
    organisation: two practices' systems may number their records alike, and one must neither
    clash with nor learn about the other's."""

    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    system = models.CharField(max_length=200)
    value = models.CharField(max_length=200)
    resource_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    fingerprint = models.CharField(max_length=64, help_text="What the row holds, to tell a resend from a change")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "system", "value", "resource_type"], name="imported_record_unique_per_sender"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.system}|{self.value} → {self.object_id}"
