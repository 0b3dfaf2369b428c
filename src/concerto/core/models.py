from django.db import models


class CodeListVersion(models.Model):
    """A named, versioned code list copied into the database so SQL can join on it."""

    name = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    system = models.CharField(max_length=20, choices=[("snomed-ct", "SNOMED CT"), ("dmd", "dm+d")])
    description = models.TextField(blank=True)
    source = models.TextField(blank=True)
    licence = models.TextField(blank=True)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="codelist_name_version_unique")]
        ordering = ["name", "-loaded_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.version})"


class CodeListEntry(models.Model):
    codelist = models.ForeignKey(CodeListVersion, on_delete=models.CASCADE, related_name="entries")
    code = models.CharField(max_length=20, db_index=True)
    term = models.CharField(max_length=400)
    cluster = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["codelist", "code", "cluster"], name="codelist_entry_unique")]
        verbose_name_plural = "code list entries"

    def __str__(self) -> str:
        return f"{self.code} {self.term}"
