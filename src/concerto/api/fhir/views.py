"""FHIR HTTP endpoints (thin: authenticate, parse, call reads/writes, shape the answer)."""

from __future__ import annotations

import functools
import json
import logging
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from concerto.access import audit
from concerto.access.middleware import MemberRequest
from concerto.access.models import AuditAction
from concerto.api import actions
from concerto.api.fhir import capability, export, resources, writes
from concerto.api.fhir.http import (
    DEFAULT_COUNT,
    FHIR_JSON,
    MAX_COUNT,
    NDJSON,
    FhirError,
    acting_membership,
    error_response,
    etag,
    fhir_response,
    is_row_id,
    not_found,
    parse_if_match,
    read_json,
)
from concerto.api.models import ExportFile, ExportJob, ExportStatus

logger = logging.getLogger(__name__)
CONTROL_PARAMS = {"_count", "_offset", "_format", "_total"}


def fhir_endpoint(methods: tuple[str, ...]):
    """Authenticate (bearer key or session), refuse other methods, answer errors as OperationOutcome.
    CSRF is checked inside `acting_membership` for session callers only: a bearer key is not
    a cookie, so a cross-site page cannot send it."""

    def decorator(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise FhirError(405, f"{request.method} is not supported here", code="not-supported")
                request.membership = acting_membership(request)  # type: ignore[attr-defined]
                return view(request, *args, **kwargs)
            except FhirError as exc:
                return error_response(exc)
            except Http404:
                return error_response(not_found())
            except Exception:
                # Still an OperationOutcome, never a page or a traceback; the log has the detail.
                logger.exception("FHIR %s %s failed", request.method, request.path)
                return error_response(FhirError(500, "The server could not process this request", code="exception"))

        return wrapper

    return decorator


@csrf_exempt
def metadata(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return error_response(FhirError(405, "GET only", code="not-supported"))
    return fhir_response(capability.statement(request.build_absolute_uri(reverse("api:fhir-base"))))


def _paging(request: HttpRequest) -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        text = request.GET.get(name, str(default))
        if not (text.isascii() and text.isdigit()) or len(text) > 9:
            raise FhirError(400, f"{name} must be a whole number")
        return int(text)

    # _count is capped rather than refused: FHIR lets a server return fewer than asked.
    return min(number("_count", DEFAULT_COUNT), MAX_COUNT), number("_offset", 0)


def _search_params(request: HttpRequest) -> dict[str, list[str]]:
    if request.GET.get("_format", "json") not in ("json", FHIR_JSON, "application/json"):
        raise FhirError(406, "Only JSON is served", code="not-supported")
    return {k: request.GET.getlist(k) for k in request.GET if k not in CONTROL_PARAMS}


def _link(request: HttpRequest, params: dict[str, list[str]], count: int, offset: int) -> str:
    query = [(k, v) for k, values in params.items() for v in values] + [("_count", count), ("_offset", offset)]
    return request.build_absolute_uri(request.path) + "?" + urlencode(query)


def _searchset(request: HttpRequest, resource_type: str, params, found, count: int, offset: int) -> dict:
    links = [{"relation": "self", "url": _link(request, params, count, offset)}]
    links.append({"relation": "first", "url": _link(request, params, count, 0)})
    if found.more:
        links.append({"relation": "next", "url": _link(request, params, count, offset + count)})
    if offset > 0:
        links.append({"relation": "previous", "url": _link(request, params, count, max(offset - count, 0))})
    base = request.build_absolute_uri(reverse("api:fhir-base"))
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [
            {"fullUrl": f"{base}{resource_type}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in found.resources
        ],
    }
    if found.total is not None:
        bundle["total"] = found.total
    return bundle


def _versioned(outcome: writes.Outcome, request: HttpRequest) -> HttpResponse:
    headers = {"Location": request.build_absolute_uri(reverse("api:fhir-base") + outcome.location)}
    if outcome.version:
        headers["ETag"] = etag(outcome.version)
    return fhir_response(outcome.resource, outcome.status, headers)


@fhir_endpoint(("GET", "POST"))
def type_level(request: MemberRequest, resource_type: str) -> HttpResponse:
    kind = resources.get_type(resource_type)
    if request.method == "POST":
        body = read_json(request)
        outcome = writes.create(
            kind.name, body, if_none_exist=request.headers.get("If-None-Exist"), by=request.membership
        )
        return _versioned(outcome, request)
    count, offset = _paging(request)
    params = _search_params(request)
    total = request.GET.get("_total")
    if total not in (None, "accurate", "none", "estimate"):
        raise FhirError(400, "_total is accurate, estimate or none")
    found = resources.search(
        resource_type=kind,
        params=params,
        offset=offset,
        count=count,
        by=request.membership,
        with_total=None if total is None else total != "none",
    )
    return fhir_response(_searchset(request, kind.name, params, found, count, offset))


@fhir_endpoint(("GET", "PUT"))
def instance(request: MemberRequest, resource_type: str, resource_id: str) -> HttpResponse:
    kind = resources.get_type(resource_type)
    if request.method == "PUT":
        updates = {"Patient": writes.update_patient, "Task": writes.update_task}
        update = updates.get(kind.name)
        if update is None:
            raise FhirError(405, f"{kind.name} cannot be updated through this API", code="not-supported")
        resource = writes.validate_resource(read_json(request), kind.name)
        with writes.atomic_write(
            by=request.membership, what=f"fhir_{kind.name.lower()}", detail={"operation": "update", "id": resource_id}
        ):
            outcome = update(
                resource_id,
                resource,
                if_match=parse_if_match(request.headers.get("If-Match")),
                by=request.membership,
            )
        return _versioned(outcome, request)
    _, resource = resources.read(resource_type=kind, id_=resource_id, by=request.membership)
    headers = {}
    if version := resource.get("meta", {}).get("versionId"):
        headers["ETag"] = etag(version)
    return fhir_response(resource, headers=headers)


@fhir_endpoint(("POST",))
def base(request: MemberRequest) -> HttpResponse:
    """POST /fhir: a transaction Bundle (all or nothing)."""
    return fhir_response(writes.process_transaction(read_json(request), by=request.membership))


@fhir_endpoint(("GET",))
def group_export(request: MemberRequest, group_id: str) -> HttpResponse:
    """Kick-off (Bulk Data Access IG): 202 Accepted with Content-Location to poll."""
    if request.headers.get("Prefer", "") != "respond-async":
        raise FhirError(400, "Bulk export needs the header Prefer: respond-async")
    if request.GET.get("_outputFormat", NDJSON) not in (NDJSON, "application/ndjson", "ndjson"):
        raise FhirError(400, "Only NDJSON output is supported", code="not-supported")
    types = [t for t in request.GET.get("_type", "").split(",") if t]
    export.check_kick_off(group_id, types, request.membership)
    job = actions.queue_export(
        group=group_id, types=types, request_url=request.build_absolute_uri(), by=request.membership
    )
    export.start(job)
    status_url = request.build_absolute_uri(reverse("api:fhir-export-status", args=[job.public_id]))
    return HttpResponse(status=202, headers={"Content-Location": status_url})


def _own_job(request: MemberRequest, job_id) -> ExportJob:
    # Someone else's job is "not found": job ids are not shared between members.
    job = ExportJob.objects.filter(public_id=job_id, requested_by=request.membership).first()
    if job is None:
        raise not_found("Export")
    return job


@fhir_endpoint(("GET",))
def export_status(request: MemberRequest, job_id) -> HttpResponse:
    job = _own_job(request, job_id)
    if job.status in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        return HttpResponse(status=202, headers={"X-Progress": job.status, "Retry-After": "2"})
    if job.status == ExportStatus.FAILED:
        raise FhirError(500, f"The export failed ({job.error})", code="exception")
    manifest = {
        "transactionTime": job.started_at.isoformat() if job.started_at else None,
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": f.resource_type,
                "url": request.build_absolute_uri(reverse("api:fhir-export-file", args=[job.public_id, f.pk])),
                "count": f.count,
            }
            for f in job.files.order_by("pk")
        ],
        "error": [],
    }
    return HttpResponse(_json(manifest), content_type="application/json")


@fhir_endpoint(("GET",))
def export_file(request: MemberRequest, job_id, file_id: str) -> HttpResponse:
    job = _own_job(request, job_id)
    # The id is matched as text so that any length answers an OperationOutcome, not Django's page.
    file = ExportFile.objects.filter(job=job, pk=int(file_id)).first() if is_row_id(file_id) else None
    if file is None:
        raise not_found("Export file")
    audit.record(
        by=request.membership,
        action=AuditAction.VIEW,
        what="fhir_bulk_export_file",
        detail={"job": str(job.public_id), "type": file.resource_type, "count": file.count},
    )
    return HttpResponse(file.ndjson + ("\n" if file.ndjson else ""), content_type=NDJSON)


def _json(body) -> str:
    return json.dumps(body, separators=(",", ":"))
