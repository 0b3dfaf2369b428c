"""Directory and social prescribing reads.

`search` is the one way to find services: free text (SQLite FTS5 or PostgreSQL full-text, the
same tokens and the same weighting idea: name above needs above description), needs, distance from
a postcode over district centroids, opening day and time, age and cost. Social prescribing reads
take the acting membership and go through the access policy.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import has_permission, require_access, visible_patients
from concerto.core import clock
from concerto.directory import geo, semantic
from concerto.directory.models import (
    Case,
    CostOption,
    Location,
    ProgrammeActivity,
    Service,
    SocialPrescription,
    Taxonomy,
    TaxonomyTerm,
    WhatMattersNote,
)
from concerto.people.models import Patient
from concerto.referrals.models import OPEN_STATUSES

STOPWORDS = frozenset(
    "a an and are as at be by for from group groups in is it near of on or the to with".split()  # noqa: SIM905
)


def stale_after_months() -> int:
    """Entries not verified for this long are flagged as stale (CONCERTO_DIRECTORY_STALE_MONTHS)."""
    return int(getattr(settings, "CONCERTO_DIRECTORY_STALE_MONTHS", 12))


@dataclass(frozen=True)
class Criteria:
    text: str = ""
    needs: tuple[str, ...] = ()
    postcode: str = ""  # the person's, or a place; only its district is used
    within_km: float | None = None
    open_on: int | None = None  # 0 is Monday
    open_at: dt.time | None = None
    age: int | None = None
    free_only: bool = False
    semantic: bool = False


@dataclass
class Result:
    service: Service
    text_score: float = 0.0  # higher is better; 0 without a text query
    needs_matched: int = 0
    distance_km: float | None = None
    stale: bool = False
    locations: list[Location] = field(default_factory=list)


def tokens(text: str) -> list[str]:
    """Lower-case words, without stop words: the same on both databases, and never FTS syntax."""
    return [t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in STOPWORDS][:12]


def _text_scores(words: list[str], candidates: QuerySet[Service]) -> dict[int, float]:
    """Service id → relevance (higher better) for services matching any of the words."""
    if connection.vendor == "sqlite":
        match = " OR ".join(f'"{w}"*' for w in words)
        with connection.cursor() as cursor:
            # bm25 is lower-is-better; weights: name 10, needs 4, description 1.
            cursor.execute(
                "SELECT rowid, -bm25(directory_service_fts, 10.0, 4.0, 1.0) FROM directory_service_fts "
                "WHERE directory_service_fts MATCH %s",
                [match],
            )
            return {row[0]: float(row[1]) for row in cursor.fetchall()}
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = (
        SearchVector("name", weight="A", config="english")
        + SearchVector("terms_text", weight="B", config="english")
        + SearchVector("description", weight="C", config="english")
    )
    query = SearchQuery(" | ".join(f"{w}:*" for w in words), search_type="raw", config="english")
    rows = (
        candidates.annotate(document=vector)
        .filter(document=query)
        .annotate(rank=SearchRank(vector, query))
        .values_list("pk", "rank")
    )
    return {pk: float(rank) for pk, rank in rows}


def search(criteria: Criteria, *, today: dt.date | None = None, limit: int = 50) -> list[Result]:
    """Active services matching the criteria, best first: text relevance, then how many of the
    needs they meet, then distance, then name. With a distance limit, services without a place
    (phone or online only) are left out; without one they are listed with no distance."""
    today = today or clock.today()
    services = Service.objects.filter(status="active")
    if criteria.needs:
        services = services.filter(terms__code__in=criteria.needs, terms__taxonomy__in=Taxonomy.values).distinct()
    if criteria.age is not None:
        services = services.filter(Q(minimum_age__isnull=True) | Q(minimum_age__lte=criteria.age)).filter(
            Q(maximum_age__isnull=True) | Q(maximum_age__gte=criteria.age)
        )
    if criteria.free_only:
        # Free means a price of £0 was given: no cost options, or one without an amount, is "not given".
        services = services.filter(pk__in=CostOption.objects.values("service")).exclude(
            pk__in=CostOption.objects.filter(Q(amount__gt=0) | Q(amount__isnull=True)).values("service")
        )
    if criteria.open_on is not None:
        opening = Q(schedules__weekday=criteria.open_on)
        if criteria.open_at is not None:
            opening &= Q(schedules__opens_at__lte=criteria.open_at, schedules__closes_at__gt=criteria.open_at)
        services = services.filter(opening).distinct()
    scores: dict[int, float] = {}
    words = tokens(criteria.text)
    use_semantic = bool(words) and criteria.semantic and semantic.available()
    if words and not use_semantic:
        scores = _text_scores(words, services)
        services = services.filter(pk__in=list(scores))
    elif criteria.text.strip() and not words:
        return []
    origin = geo.centroid(criteria.postcode) if criteria.postcode else None
    needs = set(criteria.needs)
    results = []
    for service in services.select_related("organisation__organisation").prefetch_related(
        "locations", "terms", "schedules", "cost_options"
    ):
        locations = list(service.locations.all())
        distance = _distance(origin, locations)
        if criteria.within_km is not None and (distance is None or distance > criteria.within_km):
            continue
        results.append(
            Result(
                service=service,
                text_score=scores.get(service.pk, 0.0),
                needs_matched=sum(1 for t in service.terms.all() if t.code in needs),
                distance_km=distance,
                stale=service.is_stale(today, stale_after_months()),
                locations=locations,
            )
        )
    if use_semantic:
        results = semantic.score(criteria.text, results)
    results.sort(
        key=lambda r: (
            -round(r.text_score, 6),
            -r.needs_matched,
            r.distance_km if r.distance_km is not None else math.inf,
            r.service.name,
        )
    )
    return results[:limit]


def _distance(origin: geo.Point | None, locations: list[Location]) -> float | None:
    if origin is None:
        return None
    distances = []
    for location in locations:
        point = (
            (location.latitude, location.longitude)
            if location.latitude is not None and location.longitude is not None
            else geo.centroid(location.postcode)
        )
        if point is not None:
            distances.append(geo.haversine_km(origin, point))
    return round(min(distances), 1) if distances else None


def export_document() -> dict:
    """The whole directory as an ORUK v3 page of services (what the import reads back)."""
    from concerto.directory.oruk import service_to_oruk

    services = (
        Service.objects.select_related("organisation__organisation")
        .prefetch_related("locations", "schedules", "cost_options", "contacts", "terms")
        .order_by("name", "oruk_id")
    )
    contents = [service_to_oruk(s) for s in services]
    return {"total_items": len(contents), "contents": contents}


def needs_terms() -> list[TaxonomyTerm]:
    return list(TaxonomyTerm.objects.filter(taxonomy=Taxonomy.NEEDS).order_by("name"))


def life_course_terms() -> list[TaxonomyTerm]:
    return list(TaxonomyTerm.objects.filter(taxonomy=Taxonomy.LIFE_COURSE).order_by("name"))


def get_service(oruk_id: str) -> Service | None:
    return (
        Service.objects.filter(oruk_id=oruk_id)
        .select_related("organisation__organisation")
        .prefetch_related("locations", "terms", "schedules", "cost_options", "contacts")
        .first()
    )


def services_of(organisation_id: int) -> list[Service]:
    """An organisation's own services, for its staff to keep up to date; stale ones first."""
    services = list(
        Service.objects.filter(organisation__organisation_id=organisation_id)
        .prefetch_related("terms", "schedules")
        .order_by("last_verified", "name")
    )
    today = clock.today()
    for s in services:
        s.stale = s.is_stale(today, stale_after_months())  # type: ignore[attr-defined]
    return services


def referral_services() -> list[Service]:
    """Active services that take referrals through Concerto (run by one of our VCSE partners)."""
    return list(
        Service.objects.filter(status="active", organisation__organisation__kind="vcse").select_related(
            "organisation__organisation"
        )
    )


# --- population reporting ----------------------------------------------------------------------


def _publish(count: int) -> int | None:
    """Small-number suppression through the analytics disclosure module when present (≤7
    withheld, others rounded to 5); the same rule locally until it is."""
    try:
        from concerto.analytics.disclosure import publish_count
    except ImportError:
        if 1 <= count <= 7:
            return None
        return (count + 2) // 5 * 5
    return publish_count(count)


@dataclass(frozen=True)
class ProgrammeRow:
    stage: str
    services: int
    sessions: int | None
    participants: int | None


def programme_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last 12 complete months: (first day of the first, first day of the month after the last).
    The month under way is left out until it ends, so a return cannot be stepped up and down
    against a live total."""
    this_month = (today or clock.today()).replace(day=1)
    return clock.months_before(this_month, 12), this_month


# A stage total with exactly this many reporting organisations is withheld: either one could take
# its own return away and learn the other's (one reporter publishes only its own figures; with three
# or more, subtracting one's own leaves the sum of at least two others).
WITHHELD_CONTRIBUTORS = 2


def programme_activity(*, today: dt.date | None = None) -> list[ProgrammeRow]:
    """Per life-course stage, the last 12 complete months' sessions and people reached, suppressed."""
    since, until = programme_window(today)
    rows = []
    for term in life_course_terms():
        totals = ProgrammeActivity.objects.filter(service__terms=term, month__gte=since, month__lt=until).aggregate(
            sessions=Sum("sessions"),
            participants=Sum("participants"),
            contributors=Count("service__organisation", distinct=True),
        )
        withheld = totals["contributors"] == WITHHELD_CONTRIBUTORS
        rows.append(
            ProgrammeRow(
                stage=term.name,
                services=term.services.filter(status="active").count(),
                sessions=None if withheld else _publish(totals["sessions"] or 0),
                participants=None if withheld else _publish(totals["participants"] or 0),
            )
        )
    return rows


# --- social prescribing (patient data) ----------------------------------------------------------


def caseload(*, by: Membership) -> list[Case]:
    """The link worker's open cases, people they may still see only."""
    if not has_permission(by, Permission.PATIENT_SOCIAL_PRESCRIBING):
        return []
    cases = list(
        Case.objects.filter(
            link_worker=by,
            closed_on__isnull=True,
            patient__in=visible_patients(by, Permission.PATIENT_SOCIAL_PRESCRIBING),
        )
        .select_related("patient")
        .prefetch_related(
            Prefetch(
                "prescriptions",
                queryset=SocialPrescription.objects.select_related(
                    "service", "referral__redirected_to__destination"
                ).annotate(attended=Count("attendances", filter=Q(attendances__attended=True))),
            )
        )
        .order_by("patient__family_name", "patient__given_name")
    )
    audit.record(
        by=by, action=AuditAction.VIEW, what="sp_caseload", detail={"patient_ids": [c.patient_id for c in cases]}
    )
    return cases


def open_case(*, by: Membership, patient: Patient) -> Case | None:
    """The member's own open case for the person, if they are a link worker with one."""
    if not has_permission(by, Permission.PATIENT_SOCIAL_PRESCRIBING):
        return None
    return Case.objects.filter(patient=patient, link_worker=by, closed_on__isnull=True).first()


def incoming(*, by: Membership) -> list[SocialPrescription]:
    """Prescriptions to the member's organisation that are still open, for people it may see."""
    if not has_permission(by, Permission.REFERRAL_MANAGE):
        return []
    prescriptions: list[SocialPrescription] = list(
        SocialPrescription.objects.filter(
            referral__destination_id=by.organisation_id,
            referral__status__in=OPEN_STATUSES,
            referral__patient__in=visible_patients(by, Permission.PATIENT_VIEW_DEMOGRAPHICS),
        )
        .select_related("service", "referral__patient", "referral__referrer__organisation")
        .annotate(attended=Count("attendances", filter=Q(attendances__attended=True)))
        .order_by("referral__clock_start", "pk")
    )
    audit.record(
        by=by,
        action=AuditAction.VIEW,
        what="sp_incoming",
        detail={"patient_ids": [p.referral.patient_id for p in prescriptions]},
    )
    return prescriptions


def for_patient(*, by: Membership, patient: Patient) -> list[SocialPrescription]:
    """The person's social prescriptions with attendance and wellbeing: the loop closing back to
    whoever looks after them (the GP practice's view of the patient)."""
    require_access(by, patient, Permission.PATIENT_VIEW_DEMOGRAPHICS, what="social_prescriptions")
    return list(
        SocialPrescription.objects.filter(referral__patient=patient)
        .select_related("service", "referral__destination", "referral__redirected_to__destination")
        .prefetch_related("attendances", "wellbeing")
        .order_by("-referral__created_at", "-pk")
    )


def may_read_what_matters(by: Membership) -> bool:
    """The person's own words are for the link worker and for clinicians who hold the record."""
    return has_permission(by, Permission.PATIENT_SOCIAL_PRESCRIBING) or has_permission(
        by, Permission.PATIENT_VIEW_CLINICAL
    )


def what_matters(*, by: Membership, patient: Patient) -> list[WhatMattersNote]:
    if not may_read_what_matters(by):
        return []
    permission = (
        Permission.PATIENT_SOCIAL_PRESCRIBING
        if has_permission(by, Permission.PATIENT_SOCIAL_PRESCRIBING)
        else Permission.PATIENT_VIEW_CLINICAL
    )
    require_access(by, patient, permission, what="what_matters")
    return list(WhatMattersNote.objects.filter(case__patient=patient).select_related("written_by__user"))


def get_prescription(*, patient: Patient, prescription_id: int) -> SocialPrescription | None:
    return (
        SocialPrescription.objects.filter(pk=prescription_id, referral__patient=patient)
        .select_related("service__organisation__organisation", "referral__destination", "referral__patient")
        .first()
    )
