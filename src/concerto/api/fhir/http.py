"""FHIR over HTTP: who is calling, content types, OperationOutcome errors."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

from concerto.access.models import Membership
from concerto.api.credentials import bearer_key, membership_for_key

FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
DMD = "https://dmd.nhs.uk"
MAX_COUNT = 100
DEFAULT_COUNT = 20


class FhirError(Exception):
    """An error answered as an OperationOutcome with `status`."""

    def __init__(
        self,
        status: int,
        diagnostics: str,
        code: str = "invalid",
        headers: dict[str, str] | None = None,
        patient: Any = None,
    ):
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.code = code
        self.headers = headers or {}
        # The patient a refused or unseen write was about, for the denial audit (never shown).
        self.patient = patient


def not_found(what: str = "Resource") -> FhirError:
    # The same answer whether the resource does not exist or the caller may not see it.
    return FhirError(404, f"{what} not found", code="not-found")


def operation_outcome(diagnostics: str, code: str = "invalid", severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


def fhir_response(
    body: dict[str, Any] | None, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    content = json.dumps(body, separators=(",", ":"), default=str) if body is not None else ""
    response = HttpResponse(content, status=status, content_type=FHIR_JSON if body is not None else None)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: FhirError) -> HttpResponse:
    return fhir_response(operation_outcome(error.diagnostics, error.code), error.status, error.headers)


def _csrf_failure(request: HttpRequest) -> HttpResponse | None:
    middleware = CsrfViewMiddleware(lambda r: HttpResponse())
    middleware.process_request(request)
    return middleware.process_view(request, lambda r: HttpResponse(), (), {})


def acting_membership(request: HttpRequest) -> Membership:
    """The membership a request acts as: a system's bearer key, or the browser session's chosen
    membership (whose unsafe requests must carry the CSRF token, as for any form)."""
    key = bearer_key(request)
    if key is not None:
        membership = membership_for_key(key)
        if membership is None:
            raise FhirError(401, "Unknown or revoked client credentials", code="login", headers=_challenge())
        return membership
    membership = getattr(request, "membership", None)
    if membership is None or not request.user.is_authenticated:
        raise FhirError(401, "Authentication required", code="login", headers=_challenge())
    if request.method not in ("GET", "HEAD", "OPTIONS") and _csrf_failure(request) is not None:
        raise FhirError(403, "CSRF check failed for a session-authenticated change", code="forbidden")
    return membership


def _challenge() -> dict[str, str]:
    return {"WWW-Authenticate": 'Bearer realm="concerto-fhir"'}


def read_json(request: HttpRequest) -> dict[str, Any]:
    content_type = request.content_type or ""
    if content_type not in (FHIR_JSON, "application/json"):
        raise FhirError(415, f"Send {FHIR_JSON}", code="not-supported")
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise FhirError(400, f"The body is not JSON: {exc}", code="structure") from exc
    if not isinstance(body, dict):
        raise FhirError(400, "The body must be a JSON object (a FHIR resource)", code="structure")
    return body


def is_row_id(text: str) -> bool:
    """A row id or version number: ASCII digits only (not '²', which `isdigit` accepts) and short
    enough for a 64-bit column (and for `int()`, which refuses over 4,300 digits)."""
    return text.isascii() and text.isdigit() and len(text) < 19


def etag(version: str) -> str:
    return f'W/"{version}"'


def parse_if_match(value: str | None) -> str | None:
    """The version named by an If-Match header (W/"v" or "v"), or None when absent."""
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')
