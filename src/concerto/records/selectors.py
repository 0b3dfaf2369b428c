"""Reads of coded records. Callers pass a patient already loaded through the access policy
(`access.selectors.get_patient`), which audited the read."""

import re
from dataclasses import dataclass

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


_SEMANTIC_TAG = re.compile(
    r"\s+\((?:finding|disorder|observable entity|procedure|situation|regime/therapy)\)$"
)


def _terms(codes: set[str]) -> dict[str, str]:
    """Display terms, without SNOMED CT's semantic tags ('Body mass index', not '… (observable entity)')."""
    rows = CodeListEntry.objects.filter(code__in=codes).values_list("code", "term")
    return {code: _SEMANTIC_TAG.sub("", term) for code, term in rows}


def recent_events(patient: Patient, limit: int = 20) -> list[CodedRow]:
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


def recent_medications(patient: Patient, limit: int = 10) -> list[CodedRow]:
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
