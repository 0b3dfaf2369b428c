"""Bulk data export ($export) of a group: a practice's SMI register, as NDJSON per resource type.

Kick-off queues an `ExportJob` and answers 202 with a status URL; the job runs in a background
thread after the kick-off commits (or, with `FHIR_EXPORT_IN_THREAD = False`, in the worker
command `concerto fhir_export_worker`). It acts as the membership that asked, through the same
access policy: only patients that membership may see are exported, and the export is audited
with every patient id it contains.
"""

from __future__ import annotations

import json
import logging
import threading

from django.conf import settings
from django.db import close_old_connections, transaction

from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import has_permission, visible_patients
from concerto.api.fhir import mappers
from concerto.api.fhir.http import FhirError
from concerto.api.models import ExportFile, ExportJob, ExportStatus
from concerto.core import clock
from concerto.organisations.models import Organisation, OrganisationKind
from concerto.records.models import ClinicalEvent, MedicationIssue
from concerto.register import queries

logger = logging.getLogger(__name__)

GROUP_PREFIX = "smi-register-"
EXPORT_TYPES = ("Patient", "Condition", "Observation", "MedicationStatement")
BATCH = 500


def practice_of_group(group: str) -> Organisation | None:
    if not group.startswith(GROUP_PREFIX):
        return None
    return Organisation.objects.filter(code=group.removeprefix(GROUP_PREFIX), kind=OrganisationKind.GP_PRACTICE).first()


def check_kick_off(group: str, types: list[str], by: Membership) -> None:
    """Refuse before queueing: an unknown group, or one the member's practice scope cannot reach,
    is 404 (like any resource they may not see); unknown types are 400."""
    if not has_permission(by, Permission.PATIENT_VIEW_CLINICAL):
        raise FhirError(403, "Your role cannot export clinical records", code="forbidden")
    practice = practice_of_group(group)
    if practice is None or not _reaches(by, practice):
        raise FhirError(404, "Group not found", code="not-found")
    unknown = sorted(set(types) - set(EXPORT_TYPES))
    if unknown:
        raise FhirError(400, f"Cannot export {', '.join(unknown)}; choose from {', '.join(EXPORT_TYPES)}")


def _reaches(by: Membership, practice: Organisation) -> bool:
    org = by.organisation
    return org.pk == practice.pk or (org.kind == OrganisationKind.PCN and practice.parent_id == org.pk)


def start(job: ExportJob) -> None:
    """Run the job after the kick-off commits: in a thread, unless a worker process is used."""
    if getattr(settings, "FHIR_EXPORT_IN_THREAD", True):
        transaction.on_commit(
            lambda: threading.Thread(
                target=_run_in_thread, args=(job.pk,), name=f"fhir-export-{job.pk}", daemon=True
            ).start()
        )


def _run_in_thread(job_id: int) -> None:
    try:
        run_job(job_id)
    finally:
        close_old_connections()


def claim_next() -> ExportJob | None:
    """Claim the oldest queued job (the update is the claim, so two workers never share one)."""
    for job in ExportJob.objects.filter(status=ExportStatus.QUEUED).order_by("created_at", "pk")[:5]:
        if ExportJob.objects.filter(pk=job.pk, status=ExportStatus.QUEUED).update(
            status=ExportStatus.RUNNING, started_at=clock.now()
        ):
            return job
    return None


def run_job(job_id: int) -> ExportJob:
    """Claim the job and do it; a job someone else already claimed is left alone."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, started_at=clock.now()
    )
    job = ExportJob.objects.get(pk=job_id)
    return execute(job) if claimed else job


def execute(job: ExportJob) -> ExportJob:
    """Do a claimed job. Failures end as failed with a reason (never a half-written file set: the
    files are written in one transaction)."""
    job = ExportJob.objects.select_related("requested_by__organisation", "requested_by__user").get(pk=job.pk)
    try:
        _write_files(job)
    except Exception as exc:
        logger.exception("export job %s failed", job.pk)  # ids only: never patient data
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, finished_at=clock.now(), error=type(exc).__name__
        )
    job.refresh_from_db()
    return job


@transaction.atomic
def _write_files(job: ExportJob) -> None:
    by = job.requested_by
    practice = practice_of_group(job.group)
    if practice is None or not _reaches(by, practice) or not by.is_active:
        raise PermissionError("the requester no longer reaches this group")
    on = clock.today()
    register = queries.register(visible_patients(by, Permission.PATIENT_VIEW_CLINICAL), on=on, practices=[practice.pk])
    patients = list(register.order_by("pk"))
    ids = [p.pk for p in patients]
    types = job.types or list(EXPORT_TYPES)
    for resource_type in EXPORT_TYPES:
        if resource_type not in types:
            continue
        lines = [json.dumps(r, separators=(",", ":")) for r in _resources(resource_type, patients, ids)]
        ExportFile.objects.create(job=job, resource_type=resource_type, count=len(lines), ndjson="\n".join(lines))
    audit.record(
        by=by,
        action=AuditAction.VIEW,
        what="fhir_bulk_export",
        detail={"job": str(job.public_id), "group": job.group, "patient_ids": ids},
    )
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.COMPLETE, finished_at=clock.now())


def _resources(resource_type: str, patients, ids: list[int]):
    if resource_type == "Patient":
        for patient in patients:
            yield mappers.patient_to_fhir(patient)
        return
    if resource_type == "MedicationStatement":
        issues = MedicationIssue.objects.filter(patient_id__in=ids).select_related("patient", "source_organisation")
        for issue in issues.order_by("patient_id", "date", "pk").iterator(chunk_size=BATCH):
            yield mappers.medication_statement_to_fhir(issue)
        return
    events = ClinicalEvent.objects.filter(patient_id__in=ids).select_related("patient", "source_organisation")
    if resource_type == "Condition":
        events = events.filter(code__in=queries.CODES.any_mh)
        to_fhir = mappers.condition_to_fhir
    else:
        events = events.exclude(code__in=queries.CODES.any_mh)
        to_fhir = mappers.observation_to_fhir
    for event in events.order_by("patient_id", "date", "pk").iterator(chunk_size=BATCH):
        yield to_fhir(event)
