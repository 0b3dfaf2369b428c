"""The CapabilityStatement (GET /fhir/metadata), built from the resource table so it cannot
promise what the server does not do."""

from typing import Any

from concerto.api.fhir import export, mappers, resources, writes
from concerto.core import clock


def statement(base_url: str) -> dict[str, Any]:
    rest_resources = []
    for kind in resources.TYPES.values():
        interactions = [{"code": code} for code in kind.interactions]
        entry: dict[str, Any] = {
            "type": kind.name,
            "interaction": interactions,
            "searchParam": [{"name": name, "type": _param_type(name)} for name in kind.search_params],
        }
        if kind.name in writes.WRITABLE:
            entry["conditionalCreate"] = kind.name == "Patient" or None
            entry["conditionalUpdate"] = kind.name == "Patient" or None
        if "update" in kind.interactions:
            entry["versioning"] = "versioned-update"
            entry["updateCreate"] = False
        rest_resources.append({k: v for k, v in entry.items() if v is not None})
    return mappers.validated(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": clock.now().isoformat(),
            "kind": "instance",
            "software": {"name": "Concerto"},
            "implementation": {"description": "Concerto FHIR R4 facade (UK Core-aligned)", "url": base_url},
            "fhirVersion": "4.0.1",
            "format": ["application/fhir+json"],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "service": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                        "code": "OAuth",
                                    }
                                ],
                                "text": "Bearer client key, or a staff session",
                            }
                        ],
                        "description": "Per-organisation client credentials; every call acts as the client's "
                        "membership through Concerto's access policy and is audited.",
                    },
                    "resource": rest_resources,
                    "interaction": [{"code": "transaction"}],
                    "operation": [
                        {
                            "name": "export",
                            "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
                            "documentation": f"Group/{export.GROUP_PREFIX}<practice ODS code>/$export",
                        }
                    ],
                }
            ],
        }
    )


def _param_type(name: str) -> str:
    if name in ("date", "birthdate", "onset-date", "effective", "authored"):
        return "date"
    if name in ("patient", "subject", "organization", "practitioner", "performer", "owner", "partof"):
        return "reference"
    if name in ("family", "given", "name", "agent-name"):
        return "string"
    return "token"
