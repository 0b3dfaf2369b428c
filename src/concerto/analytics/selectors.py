"""Reads for the analyst dashboards: published (disclosure-controlled) indicator results only.

The results come from `store` (computed on the live database, protected, stored per month), so
nothing unsuppressed is ever kept or shown. Each page view is audited (no patient is named: the
audit row records which aggregate was seen).
"""

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from django.http import Http404

from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import has_permission
from concerto.analytics import store
from concerto.core import clock
from concerto.organisations.models import Organisation
from concerto.organisations.models import OrganisationKind as K

MONTHS = 24  # a monthly series long enough for XmR limits (Making Data Count: 15 or more points)
LEVELS: dict[str, str] = {K.ICB: "icb", K.PCN: "pcn", K.GP_PRACTICE: "practice"}


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    level: str  # "icb", "pcn" or "practice"
    parent: str | None


@dataclass(frozen=True)
class Published:
    results: pd.DataFrame  # protected: withheld counts are pd.NA, withheld values None
    as_of: dt.datetime | None
    places: dict[str, Place]  # the member's ICB, its PCNs and practices, in display order
    computing: list[dt.date]  # months still being computed in the background

    @property
    def latest_period(self) -> dt.date | None:
        return None if self.results.empty else max(self.results.period)

    def place(self, code: str | None) -> Place:
        """The organisation asked for (the ICB by default); one outside the ICB is not found."""
        icb = next(iter(self.places.values()))
        if not code:
            return icb
        if code not in self.places:
            raise Http404("No such organisation")
        return self.places[code]


def _hierarchy() -> dict[str, Place]:
    """Every ICB, PCN and practice, each ICB followed by its PCNs, each PCN by its practices."""
    orgs = list(Organisation.objects.filter(kind__in=list(LEVELS)).select_related("parent").order_by("name"))
    children: dict[int | None, list[Organisation]] = {}
    for org in orgs:
        children.setdefault(org.parent_id, []).append(org)
    places: dict[str, Place] = {}

    def visit(org: Organisation) -> None:
        places[org.code] = Place(org.code, org.name, LEVELS[org.kind], org.parent.code if org.parent else None)
        for child in children.get(org.pk, []):
            if child.kind in LEVELS:
                visit(child)

    for org in orgs:
        if org.kind == K.ICB:
            visit(org)
    return places


def reporting_months(today: dt.date) -> list[dt.date]:
    """The last MONTHS complete months before `today`, oldest first (first of each month)."""
    index = today.year * 12 + today.month - 1  # this month, counted from year 0
    return [dt.date(m // 12, m % 12 + 1, 1) for m in range(index - MONTHS, index)]


def _parents(hierarchy: dict[str, Place]) -> dict[str, str]:
    return {code: p.parent for code, p in hierarchy.items() if p.parent}


def published(*, by: Membership, what: str, detail: dict | None = None) -> Published:
    """Protected results for the member's ICB, audited as `what`. Only aggregate roles may ask."""
    if not has_permission(by, Permission.AGGREGATES_VIEW) or by.organisation.kind != K.ICB:
        raise Http404("No such page")
    hierarchy = _hierarchy()
    snapshot = store.load(
        reporting_months(clock.today()), parents=_parents(hierarchy), now=clock.now(), background=store.BACKGROUND
    )
    icb = by.organisation.code
    places = {
        code: p
        for code, p in hierarchy.items()
        if icb in (code, p.parent) or (p.parent in hierarchy and hierarchy[p.parent].parent == icb)
    }
    results = snapshot.results
    ours = results[results.organisation.isin(places)].reset_index(drop=True)
    audit.record(by=by, action=AuditAction.VIEW, what=what, detail=detail or {})
    return Published(results=ours, as_of=snapshot.as_of, places=places, computing=snapshot.computing)


def refresh_published(progress=None) -> None:
    """Compute and store every stale month now (the demo and `concerto publish_indicators`)."""
    months = reporting_months(clock.today())
    store.load(months, parents=_parents(_hierarchy()), now=clock.now(), background=False, progress=progress)
