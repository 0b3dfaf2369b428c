"""Reads of coded records. Each checks the acting membership may see this patient's clinical
record (the page that shows them has already audited the read through `access.selectors`)."""

import re
from dataclasses import dataclass

from concerto.access.models import Membership
from concerto.access.permissions import Permission
from concerto.access.policy import require_access
from concerto.core.models import CodeListEntry
from concerto.people.models import Patient
from concerto.records.models import ClinicalEvent, MedicationIssue


@dataclass(frozen=True)
class CodedRow:
    date: object
    code: str
    term: str
    value: object
    unit: str
    source: str


_SEMANTIC_TAG = re.compile(r"\s+\((?:finding|disorder|observable entity|procedure|situation|regime/therapy)\)$")


def _terms(codes: set[str]) -> dict[str, str]:
    """Display terms, without SNOMED CT's semantic tags ('Body mass index', not '… (observable entity)')."""
    rows = CodeListEntry.objects.filter(code__in=codes).values_list("code", "term")
    return {code: _SEMANTIC_TAG.sub("", term) for code, term in rows}


def recent_events(*, by: Membership, patient: Patient, limit: int = 20) -> list[CodedRow]:
    require_access(by, patient, Permission.PATIENT_VIEW_CLINICAL, what="clinical_events")
    events = list(
        ClinicalEvent.objects.filter(patient=patient)
        .select_related("source_organisation")
        .order_by("-date", "-id")[:limit]
    )
    terms = _terms({e.code for e in events})
    return [
        CodedRow(
            e.date,
            e.code,
            terms.get(e.code, "Unknown code"),
            e.value,
            e.unit,
            e.source_organisation.name if e.source_organisation else "",
        )
        for e in events
    ]


def recent_medications(*, by: Membership, patient: Patient, limit: int = 10) -> list[CodedRow]:
    require_access(by, patient, Permission.PATIENT_VIEW_CLINICAL, what="medication_issues")
    issues = list(
        MedicationIssue.objects.filter(patient=patient)
        .select_related("source_organisation")
        .order_by("-date", "-id")[:limit]
    )
    terms = _terms({i.code for i in issues})
    return [
        CodedRow(
            i.date,
            i.code,
            terms.get(i.code, "Unknown product"),
            None,
            "",
            i.source_organisation.name if i.source_organisation else "",
        )
        for i in issues
    ]
