import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from concerto.core.nhs_number import format_nhs_number, validate_nhs_number


class User(AbstractUser):
    """A member of staff. What they may do depends on the membership they act as (see access)."""


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    INDETERMINATE = "I", "Indeterminate"
    UNKNOWN = "U", "Not known"


class EthnicGroup(models.TextChoices):
    """The five high-level ONS 2021 groups, used for inequality breakdowns."""

    ASIAN = "asian", "Asian or Asian British"
    BLACK = "black", "Black, Black British, Caribbean or African"
    MIXED = "mixed", "Mixed or multiple ethnic groups"
    WHITE = "white", "White"
    OTHER = "other", "Other ethnic group"
    NOT_STATED = "not_stated", "Not stated"


class Ethnicity(models.TextChoices):
    """ONS 2021 census ethnic categories (England and Wales), 19 categories, plus not stated."""

    ASIAN_BANGLADESHI = "A_BAN", "Asian or Asian British: Bangladeshi"
    ASIAN_CHINESE = "A_CHI", "Asian or Asian British: Chinese"
    ASIAN_INDIAN = "A_IND", "Asian or Asian British: Indian"
    ASIAN_PAKISTANI = "A_PAK", "Asian or Asian British: Pakistani"
    ASIAN_OTHER = "A_OTH", "Asian or Asian British: Other Asian"
    BLACK_AFRICAN = "B_AFR", "Black, Black British, Caribbean or African: African"
    BLACK_CARIBBEAN = "B_CAR", "Black, Black British, Caribbean or African: Caribbean"
    BLACK_OTHER = "B_OTH", "Black, Black British, Caribbean or African: Other Black"
    MIXED_WHITE_ASIAN = "M_WAS", "Mixed or multiple: White and Asian"
    MIXED_WHITE_BLACK_AFRICAN = "M_WBA", "Mixed or multiple: White and Black African"
    MIXED_WHITE_BLACK_CARIBBEAN = "M_WBC", "Mixed or multiple: White and Black Caribbean"
    MIXED_OTHER = "M_OTH", "Mixed or multiple: Other Mixed"
    WHITE_BRITISH = "W_BRI", "White: English, Welsh, Scottish, Northern Irish or British"
    WHITE_IRISH = "W_IRI", "White: Irish"
    WHITE_GYPSY_TRAVELLER = "W_GYP", "White: Gypsy or Irish Traveller"
    WHITE_ROMA = "W_ROM", "White: Roma"
    WHITE_OTHER = "W_OTH", "White: Other White"
    OTHER_ARAB = "O_ARA", "Other ethnic group: Arab"
    OTHER_ANY = "O_OTH", "Other ethnic group: Any other ethnic group"
    NOT_STATED = "Z", "Not stated"

    @classmethod
    def group_of(cls, code: str) -> EthnicGroup:
        return {
            "A": EthnicGroup.ASIAN,
            "B": EthnicGroup.BLACK,
            "M": EthnicGroup.MIXED,
            "W": EthnicGroup.WHITE,
            "O": EthnicGroup.OTHER,
        }.get(code[:1], EthnicGroup.NOT_STATED)


class Patient(models.Model):
    # Opaque identifier for URLs, so NHS numbers never appear in web server logs.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    nhs_number = models.CharField("NHS number", max_length=10, unique=True, validators=[validate_nhs_number])
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100, db_index=True)
    date_of_birth = models.DateField(db_index=True)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    ethnicity = models.CharField(max_length=5, choices=Ethnicity.choices, default=Ethnicity.NOT_STATED)
    postcode = models.CharField(max_length=8, blank=True)
    lsoa = models.CharField("LSOA (2021)", max_length=9, blank=True)
    imd_decile = models.PositiveSmallIntegerField(
        "IMD decile", null=True, blank=True, help_text="1 = most deprived 10%, 10 = least deprived."
    )
    date_of_death = models.DateField(null=True, blank=True)
    # Contact details for invitations (direct care only: never in analytic extracts).
    mobile_phone = models.CharField(max_length=20, blank=True)
    address = models.TextField(blank=True, help_text="Postal address, one line per line, postcode last.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="imd_decile_1_to_10",
                condition=models.Q(imd_decile__isnull=True) | models.Q(imd_decile__gte=1, imd_decile__lte=10),
            ),
            models.CheckConstraint(
                name="death_after_birth",
                condition=models.Q(date_of_death__isnull=True) | models.Q(date_of_death__gte=models.F("date_of_birth")),
            ),
        ]
        indexes = [models.Index(fields=["family_name", "given_name"])]

    def __str__(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name} ({self.formatted_nhs_number})"

    @property
    def formatted_nhs_number(self) -> str:
        return format_nhs_number(self.nhs_number)

    @property
    def age(self) -> int:
        """Age in whole years today, or at death."""
        on = self.date_of_death or timezone.localdate()
        born = self.date_of_birth
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    @property
    def ethnic_group(self) -> EthnicGroup:
        return Ethnicity.group_of(self.ethnicity)


class Registration(models.Model):
    """A patient's registration with a GP practice; `end` is empty while current."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="registrations")
    practice = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="registrations",
        limit_choices_to={"kind": "gp_practice"},
    )
    start = models.DateField()
    end = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="registration_end_after_start",
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
            ),
            # At most one current registration per patient.
            models.UniqueConstraint(
                fields=["patient"], condition=models.Q(end__isnull=True), name="one_current_registration"
            ),
        ]
        indexes = [models.Index(fields=["practice", "end"])]

    def __str__(self) -> str:
        return f"Patient {self.patient_id} at {self.practice_id} from {self.start} to {self.end or 'now'}"
