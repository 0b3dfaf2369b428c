"""The plan printed for the patient: WeasyPrint, tagged as PDF/UA-1 (headings, tables and reading
order carried in the file for screen readers), with a large-print option."""

import warnings

from django.template.loader import render_to_string

from concerto.careplans.models import Kind, PlanVersion
from concerto.careplans.sections import NATIONAL_FALLBACKS
from concerto.core import clock


def render_html(version: PlanVersion, *, large_print: bool = False, show_scores: bool = True) -> str:
    return render_to_string(
        "careplans/pdf.html",
        {
            "version": version,
            "patient": version.patient,
            "kind": version.kind,
            "kind_label": Kind(version.kind).label,
            "c": version.content,
            "fallbacks": NATIONAL_FALLBACKS,
            "large_print": large_print,
            "show_scores": show_scores,
            "printed_at": clock.now(),
        },
    )


def render_pdf(version: PlanVersion, *, large_print: bool = False, show_scores: bool = True) -> bytes:
    with warnings.catch_warnings():
        # WeasyPrint notes, once at import, that a future version will need the system's
        # HarfBuzz-subset library; today's output does not depend on it.
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        from weasyprint import HTML  # imported here: loading Pango and fonts is slow

    html = render_html(version, large_print=large_print, show_scores=show_scores)
    return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
