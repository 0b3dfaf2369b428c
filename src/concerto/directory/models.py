"""The community services directory on the Open Referral UK (HSDS 3.0 UK profile) model, and social
prescribing into it.

Directory records keep their Open Referral identifiers (`oruk_id`, UUIDs) so a file exported here
imports elsewhere and back without duplicating anything. Social prescribing is patient data: a
prescription is a `referrals.Referral` to the organisation that runs the service (the no-wrong-door
lifecycle, clocks and relationship come from there), linked here to the directory service.
"""

from __future__ import annotations

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

# Service statuses as Open Referral defines them.
SERVICE_STATUSES = ["active", "inactive", "defunct", "temporarily closed"]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class Taxonomy(models.TextChoices):
    """Our two vocabularies, published as Open Referral taxonomies."""

    NEEDS = "concerto-needs", "Needs"
    LIFE_COURSE = "concerto-life-course", "Life-course programmes"


class DirectoryOrganisation(models.Model):
    """An Open Referral `organization`. When it is one of ours (a VCSE partner), `organisation`
    says which: its staff maintain its services and receive its referrals."""

    oruk_id = models.CharField(max_length=36, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField()
    email = models.CharField(max_length=200, blank=True)
    website = models.CharField(max_length=300, blank=True)
    organisation = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="directory_entries"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TaxonomyTerm(models.Model):
    oruk_id = models.CharField(max_length=36, unique=True)
    taxonomy = models.CharField(max_length=40, choices=Taxonomy.choices)
    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["taxonomy", "name"]
        constraints = [models.UniqueConstraint(fields=["taxonomy", "code"], name="taxonomy_term_code_unique")]

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    oruk_id = models.CharField(max_length=36, unique=True)
    name = models.CharField(max_length=200, blank=True)
    address_1 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    # From the file when given; otherwise the postcode's centroid is used for distances.
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name or self.postcode


class Service(models.Model):
    oruk_id = models.CharField(max_length=36, unique=True)
    organisation = models.ForeignKey(DirectoryOrganisation, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    email = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=[(s, s.capitalize()) for s in SERVICE_STATUSES])
    fees_description = models.TextField(blank=True)
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    # Open Referral's `assured_date`: when someone last checked the entry is still right.
    last_verified = models.DateField(null=True, blank=True)
    last_modified = models.DateTimeField()
    locations = models.ManyToManyField(Location, blank=True, related_name="services")
    terms = models.ManyToManyField(TaxonomyTerm, blank=True, related_name="services")
    # The terms' names, kept in step by the actions: what full-text search reads alongside name and description.
    terms_text = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="service_age_range_ordered",
                condition=models.Q(minimum_age__isnull=True)
                | models.Q(maximum_age__isnull=True)
                | models.Q(minimum_age__lte=models.F("maximum_age")),
            ),
            models.CheckConstraint(name="service_status_known", condition=models.Q(status__in=SERVICE_STATUSES)),
        ]

    def __str__(self) -> str:
        return self.name

    def is_stale(self, today: dt.date, months: int) -> bool:
        from concerto.core import clock

        return self.last_verified is None or self.last_verified < clock.months_before(today, months)

    @property
    def is_free(self) -> bool | None:
        """True when every price given is £0, False when one is not, None when no price is given."""
        amounts = [c.amount for c in self.cost_options.all()]
        if any(a for a in amounts if a is not None):
            return False
        return None if not amounts or None in amounts else True


class Schedule(models.Model):
    """A weekly opening: a day and times (Open Referral `schedule` with freq WEEKLY, one `byday`)."""

    oruk_id = models.CharField(max_length=36, unique=True)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="schedules")
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)], help_text="0 is Monday")
    opens_at = models.TimeField()
    closes_at = models.TimeField()
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["weekday", "opens_at"]
        constraints = [
            models.CheckConstraint(
                name="schedule_closes_after_opening", condition=models.Q(closes_at__gt=models.F("opens_at"))
            )
        ]

    def __str__(self) -> str:
        return f"{WEEKDAY_NAMES[self.weekday]} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"

    @property
    def day_name(self) -> str:
        return WEEKDAY_NAMES[self.weekday]


class CostOption(models.Model):
    oruk_id = models.CharField(max_length=36, unique=True)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="cost_options")
    option = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    amount_description = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.option or str(self.amount)


class ServiceContact(models.Model):
    oruk_id = models.CharField(max_length=36, unique=True)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=30, blank=True)

    def __str__(self) -> str:
        return self.name


class ProgrammeActivity(models.Model):
    """How much a life-course programme did in a month (sessions run, people reached), for
    population reporting. Aggregate counts only: no patient is named."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="activity")
    month = models.DateField(help_text="First day of the month")
    sessions = models.PositiveIntegerField()
    participants = models.PositiveIntegerField()
    recorded_by = models.ForeignKey("access.Membership", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "month"], name="one_activity_return_per_month"),
            models.CheckConstraint(name="activity_month_starts_on_day_1", condition=models.Q(month__day=1)),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.month:%Y-%m}"


# --- social prescribing (patient data) ---------------------------------------------------------


class Case(models.Model):
    """A link worker's work with one person: what matters to them, and where they were connected."""

    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="social_prescribing_cases")
    link_worker = models.ForeignKey("access.Membership", on_delete=models.PROTECT, related_name="sp_cases")
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "link_worker"], condition=models.Q(closed_on__isnull=True), name="one_open_case"
            ),
            models.CheckConstraint(
                name="case_closes_after_opening",
                condition=models.Q(closed_on__isnull=True) | models.Q(closed_on__gte=models.F("opened_on")),
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk}"


class WhatMattersNote(models.Model):
    """A "what matters to me" note, in the person's own words where possible. Append-only."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    text = models.TextField()
    written_by = models.ForeignKey("access.Membership", on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["-written_at", "-id"]

    def __str__(self) -> str:
        return f"Note {self.pk}"


class SocialPrescription(models.Model):
    """A referral (in the referrals app) to the organisation running a directory service. When the
    service redirects it, the onward referral gets its own prescription pointing back here."""

    referral = models.OneToOneField("referrals.Referral", on_delete=models.PROTECT, related_name="social_prescription")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="prescriptions")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="prescriptions")

    def __str__(self) -> str:
        return f"Prescription {self.pk} to {self.service_id}"

    @property
    def latest_wellbeing(self) -> WellbeingScore | None:
        """The most recent ONS4 scores (uses prefetched rows when there are some)."""
        return max(self.wellbeing.all(), key=lambda w: (w.date, w.pk), default=None)

    @property
    def handed_over_to(self):
        """The onward referral when the service handed the person over, whether through the
        directory's hand-over or the referrals pages (which makes no prescription of its own)."""
        return getattr(self.referral, "redirected_to", None)

    @property
    def attended_dates(self) -> list[dt.date]:
        return sorted(a.date for a in self.attendances.all() if a.attended)


class Attendance(models.Model):
    """Whether the person came to a session. Not clinical: the service records it."""

    prescription = models.ForeignKey(SocialPrescription, on_delete=models.PROTECT, related_name="attendances")
    date = models.DateField()
    attended = models.BooleanField()
    recorded_by = models.ForeignKey("access.Membership", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date} {'attended' if self.attended else 'did not attend'}"


_SCORE = [MinValueValidator(0), MaxValueValidator(10)]


class WellbeingScore(models.Model):
    """ONS personal wellbeing (ONS4): four questions scored 0–10. Anxiety is the one where lower is
    better."""

    prescription = models.ForeignKey(SocialPrescription, on_delete=models.PROTECT, related_name="wellbeing")
    date = models.DateField()
    life_satisfaction = models.PositiveSmallIntegerField(validators=_SCORE)
    worthwhile = models.PositiveSmallIntegerField(validators=_SCORE)
    happiness = models.PositiveSmallIntegerField(validators=_SCORE)
    anxiety = models.PositiveSmallIntegerField(validators=_SCORE)
    recorded_by = models.ForeignKey("access.Membership", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(
                name="ons4_scores_0_to_10",
                condition=models.Q(life_satisfaction__lte=10, worthwhile__lte=10, happiness__lte=10, anxiety__lte=10),
            )
        ]

    def __str__(self) -> str:
        return f"ONS4 {self.date}"
