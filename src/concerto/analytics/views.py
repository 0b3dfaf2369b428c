"""The ICB analyst's dashboards: published indicator figures only, never patient-level data."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from concerto.access.decorators import require_permission
from concerto.access.middleware import MemberRequest
from concerto.access.permissions import Permission

REFRESH_SECONDS = 15  # while figures are being computed in the background


def _csv_requested(request: MemberRequest) -> str | None:
    return request.GET.get("table") if request.GET.get("format") == "csv" else None


@require_permission(Permission.AGGREGATES_VIEW)
def overview(request: MemberRequest) -> HttpResponse:
    # Ibis, pandas and Altair load with the first dashboard request, not at start-up: every other
    # page and every test process would pay for them.
    from concerto.analytics import selectors, tables
    from concerto.analytics.catalogue import INDICATORS

    code = request.GET.get("organisation") or None
    export = _csv_requested(request)
    published = selectors.published(
        by=request.membership,
        what="indicator_export" if export else "indicator_overview",
        detail={"organisation": code},
    )
    place = published.place(code)
    table = tables.overview(
        published,
        INDICATORS.values(),
        place,
        link=lambda key: reverse("analytics:indicator", args=[key]) + f"?organisation={place.code}",
    )
    if export:
        if export != table.key:
            raise Http404("No such table")
        return tables.as_csv(table, f"indicators-{place.code}-{published.latest_period}.csv")
    return render(
        request,
        "analytics/overview.html",
        {
            "published": published,
            "place": place,
            "table": table,
            "query": f"organisation={place.code}",
            "refresh_seconds": REFRESH_SECONDS,
        },
    )


@require_permission(Permission.AGGREGATES_VIEW)
def indicator(request: MemberRequest, key: str) -> HttpResponse:
    # Ibis, pandas and Altair load with the first dashboard request, not at start-up: every other
    # page and every test process would pay for them.
    from concerto.analytics import charts, selectors, tables
    from concerto.analytics.catalogue import INDICATORS

    if key not in INDICATORS:
        raise Http404("No such indicator")
    definition = INDICATORS[key]
    code = request.GET.get("organisation") or None
    export = _csv_requested(request)
    published = selectors.published(
        by=request.membership,
        what="indicator_export" if export else "indicator_detail",
        detail={"indicator": key, "organisation": code, "table": export},
    )
    place = published.place(code)
    rows = tables.series(published, key, place)
    chart = tables.chart_for(rows, definition)
    shown = [
        tables.monthly(rows, definition, chart),
        *tables.breakdowns(published, definition, place),
        tables.comparison(published, definition),
    ]
    if export:
        table = next((t for t in shown if t.key == export), None)
        if table is None:
            raise Http404("No such table")
        return tables.as_csv(table, f"{key}-{table.key}-{place.code}-{published.latest_period}.csv")
    spec = (
        charts.xmr_chart(
            rows,
            chart,
            title=f"{definition.title}: {place.name}",
            unit=tables.unit_label(definition.unit),
            higher_is_better=definition.higher_is_better,
            target=definition.target,
        )
        if chart
        else None
    )
    points = tables.latest_values(published, definition)
    comparison_spec = (
        charts.comparison_chart(
            points,
            title=f"{definition.title}: {published.latest_period:%B %Y}",
            unit=tables.unit_label(definition.unit),
            target=definition.target,
        )
        if len(points) > 1
        else None
    )
    return render(
        request,
        "analytics/indicator.html",
        {
            "published": published,
            "place": place,
            "indicator": definition,
            "target": tables.target_text(definition),
            "chart": chart,
            "spec": spec,
            "comparison_spec": comparison_spec,
            "variation": tables.variation_cell(chart),
            "assurance": tables.assurance_cell(chart),
            "series": shown[0],
            "breakdowns": shown[1:-1],
            "comparison": shown[-1],
            "query": f"organisation={place.code}",
            "refresh_seconds": REFRESH_SECONDS,
        },
    )
