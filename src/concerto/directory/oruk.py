"""Open Referral UK (v3, the HSDS 3.0 UK profile) JSON: validation, reading and writing.

A file is a list of `service` objects with their organization, locations, schedules, cost options,
contacts and taxonomy attributes nested, as the ORUK API returns them (a bare list, or a page with
`contents`). Every record is checked against the ORUK schemas (`schemas/oruk3_*.json`, from
OpenReferralUK/uk-profile) and then against what Concerto needs to use it; every problem is
reported with the record it belongs to, and nothing is written unless the whole file is good
(`actions.import_services`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry

from concerto.directory.models import (
    WEEKDAYS,
    CostOption,
    DirectoryOrganisation,
    Location,
    Schedule,
    Service,
    ServiceContact,
    Taxonomy,
)
from concerto.directory.taxonomy import VOCABULARIES

SCHEMAS = Path(__file__).resolve().parent / "schemas"
# Stable identifiers for the linking records we do not store (service_at_location, address, attribute).
NAMESPACE = uuid.UUID("0f1d2c3b-5a69-4e87-b1c2-d3e4f5a6b7c8")
CONCERTO_SCHEME = "concerto"  # organization_identifiers scheme naming one of our organisations by code
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?(Z|[+-]\d\d:\d\d)?$")


@dataclass(frozen=True)
class Problem:
    record: int  # 1-based position in the file
    service_id: str
    name: str
    message: str

    def __str__(self) -> str:
        who = f"{self.name!r} ({self.service_id})" if self.name else (self.service_id or "no id")
        return f"Record {self.record}, service {who}: {self.message}"


@dataclass
class ServiceRecord:
    """One service as read from the file, checked and ready to write."""

    data: dict[str, Any]
    organisation: dict[str, Any]
    organisation_code: str | None
    locations: list[dict[str, Any]] = field(default_factory=list)
    terms: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (taxonomy, code, term)
    index: int = 0  # 1-based position in the file
    # The ids the write gives its child rows, per list ("schedules", "cost_options", "contacts"): (position, id).
    child_ids: dict[str, list[tuple[int, str]]] = field(default_factory=dict)


@functools.cache
def _validator() -> Draft202012Validator:
    from referencing.jsonschema import DRAFT202012 as spec

    resources = []
    for path in SCHEMAS.glob("oruk3_*.json"):
        schema = json.loads(path.read_text())
        # The schemas refer to each other by bare file name ("schedule.json"). Their own
        # extension keywords (constraints, core…) are ignored by the validator.
        resources.append((path.name.removeprefix("oruk3_"), spec.create_resource(schema)))
    # organization_identifier.json is not published with the profile: accept any object there.
    resources.append(("organization_identifier.json", spec.create_resource({"type": "object"})))
    registry = Registry().with_resources(resources)
    service = json.loads((SCHEMAS / "oruk3_service.json").read_text())
    return Draft202012Validator(service, registry=registry, format_checker=FormatChecker())


def read(text: str | bytes) -> tuple[list[ServiceRecord], list[Problem]]:
    """Parse and check a file. Returns the records and every problem found (empty when good)."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [], [Problem(0, "", "", f"The file is not valid JSON: {exc}")]
    items = document.get("contents") if isinstance(document, dict) else document
    if not isinstance(items, list):
        return [], [Problem(0, "", "", "Expected a list of services, or an object with a 'contents' list.")]
    records: list[ServiceRecord] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    seen_children: dict[tuple[str, str], int] = {}  # (list, id) -> the record that used it first
    for index, item in enumerate(items, start=1):
        record_problems, record = _check(index, item)
        if record is not None:
            sid = record.data["id"]
            if sid in seen:
                record_problems.append(f"the same service id is also record {seen[sid]}")
            seen.setdefault(sid, index)
            for kind, ids in record.child_ids.items():
                for n, child_id in ids:
                    first = seen_children.setdefault((kind, child_id), index)
                    if first != index:
                        record_problems.append(f"{kind}/{n}: id {child_id} is also used by record {first}")
        name = item.get("name", "") if isinstance(item, dict) else ""
        sid = item.get("id", "") if isinstance(item, dict) else ""
        problems += [Problem(index, str(sid), str(name), m) for m in record_problems]
        if record is not None and not record_problems:
            record.index = index
            records.append(record)
    return records, problems


def _where(error) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return f"{path}: " if path else ""


def _check(index: int, item: Any) -> tuple[list[str], ServiceRecord | None]:
    if not isinstance(item, dict):
        return ["each record must be a JSON object"], None
    messages = [
        f"{_where(e)}{e.message}" for e in sorted(_validator().iter_errors(item), key=lambda e: list(e.absolute_path))
    ]
    if messages:
        return messages, None
    organisation = item.get("organization")
    if not isinstance(organisation, dict):
        messages.append("the service has no organization (nest the organization object in the service)")
    elif item.get("organization_id") and item["organization_id"] != organisation.get("id"):
        messages.append("organization_id does not match the nested organization's id")
    minimum, maximum = item.get("minimum_age"), item.get("maximum_age")
    for label, age in (("minimum_age", minimum), ("maximum_age", maximum)):
        if age is not None and (age < 0 or age > 130 or int(age) != age):
            messages.append(f"{label} must be a whole number of years between 0 and 130")
    if minimum is not None and maximum is not None and minimum > maximum:
        messages.append(f"minimum_age ({minimum}) is above maximum_age ({maximum})")
    if item.get("assured_date"):
        try:
            dt.date.fromisoformat(item["assured_date"])
        except ValueError:
            messages.append(f"assured_date {item['assured_date']!r} is not a date (YYYY-MM-DD)")
    # The schema's date-time format is not enforced by the validator here: check it ourselves.
    if item.get("last_modified") is not None and parse_datetime(item["last_modified"]) is None:
        messages.append(f"last_modified {item['last_modified']!r} is not a date and time (ISO 8601)")
    messages += _too_long(item, Service, {"name": "name", "url": "url", "email": "email"})
    if isinstance(organisation, dict):
        messages += _too_long(
            organisation,
            DirectoryOrganisation,
            {"name": "name", "email": "email", "website": "website"},
            "organization/",
        )
    child_ids: dict[str, list[tuple[int, str]]] = {}
    for n, schedule in enumerate(item.get("schedules", []), start=1):
        messages += _too_long(schedule, Schedule, {"description": "description"}, f"schedules/{n}/")
    for n, option in enumerate(item.get("cost_options", []), start=1):
        messages += _too_long(
            option, CostOption, {"option": "option", "amount_description": "amount_description"}, f"cost_options/{n}/"
        )
        amount = option.get("amount")
        if amount is not None and not _is_price(amount):
            messages.append(f"cost_options/{n}: amount {amount} is not a price in pounds and pence below £1,000,000")
        child_ids.setdefault("cost_options", []).append((n, str(option.get("id", ""))))
    for n, contact in enumerate(item.get("contacts", []), start=1):
        messages += _too_long(contact, ServiceContact, {"name": "name", "title": "title"}, f"contacts/{n}/")
        for phone in contact.get("phones") or []:
            messages += _too_long(phone, ServiceContact, {"number": "phone"}, f"contacts/{n}/phones/")
        child_ids.setdefault("contacts", []).append((n, str(contact.get("id", ""))))
    for n, schedule in enumerate(item.get("schedules", []), start=1):
        schedule_problems = _check_schedule(schedule)
        messages += [f"schedules/{n}: {m}" for m in schedule_problems]
        if not schedule_problems:
            child_ids.setdefault("schedules", []).extend((n, i) for i in schedule_row_ids(schedule))
    for kind, ids in child_ids.items():
        firsts: dict[str, int] = {}
        for n, child_id in ids:
            if firsts.setdefault(child_id, n) != n:
                messages.append(f"{kind}/{n}: id {child_id} is also used by {kind}/{firsts[child_id]}")
    locations = []
    for n, sal in enumerate(item.get("service_at_locations", []), start=1):
        location = sal.get("location")
        if not isinstance(location, dict):
            messages.append(f"service_at_locations/{n}: nest the location object")
        else:
            locations.append(location)
            messages += _too_long(location, Location, {"name": "name"}, f"service_at_locations/{n}/location/")
            for address in location.get("addresses") or []:
                messages += _too_long(
                    address,
                    Location,
                    {"address_1": "address_1", "city": "city", "postal_code": "postcode"},
                    f"service_at_locations/{n}/location/addresses/",
                )
    terms = []
    for n, attribute in enumerate(item.get("attributes", []), start=1):
        term = attribute.get("taxonomy_term")
        taxonomy = term.get("taxonomy") if isinstance(term, dict) else None
        if taxonomy not in Taxonomy.values:
            messages.append(
                f"attributes/{n}: taxonomy {taxonomy!r} is not one we use; "
                f"terms must come from {' or '.join(Taxonomy.values)}"
            )
            continue
        code = term.get("term") or ""
        if not code:
            messages.append(f"attributes/{n}: the taxonomy term has no 'term' code")
            continue
        if code not in KNOWN_CODES[taxonomy]:
            # The vocabularies are ours and shared by every service: a file cannot add to them.
            messages.append(
                f"attributes/{n}: {code!r} is not a term of {taxonomy} "
                f"(known: {', '.join(sorted(KNOWN_CODES[taxonomy]))})"
            )
            continue
        terms.append((taxonomy, code, term))
    code = _concerto_code(organisation) if isinstance(organisation, dict) else None
    if messages:
        return messages, None
    return [], ServiceRecord(item, organisation, code, locations, terms, child_ids=child_ids)  # type: ignore[arg-type]


KNOWN_CODES = {str(taxonomy): {code for code, _, _ in terms} for taxonomy, terms in VOCABULARIES.items()}


def _too_long(obj: dict, model: type, fields: dict[str, str], where: str = "") -> list[str]:
    """Values longer than the model's column (`fields` maps the ORUK key to the model field)."""
    problems = []
    for key, field_name in fields.items():
        limit = model._meta.get_field(field_name).max_length  # type: ignore[attr-defined]
        value = obj.get(key)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            problems.append(f"{where}{key} is longer than {limit} characters")
    return problems


def parse_datetime(value: Any) -> dt.datetime | None:
    """An ISO 8601 date and time, made timezone-aware (UTC when the file gives no offset)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def schedule_row_ids(schedule: dict) -> list[str]:
    """The ids of the rows a weekly schedule is stored as (one per day; the first day keeps the
    file's id so that a single-day schedule round-trips)."""
    return [
        schedule["id"] if n == 0 else _linked_id(schedule["id"], str(day)) for n, day in enumerate(weekdays(schedule))
    ]


def _is_price(amount: Any) -> bool:
    """What the cost column holds: pounds and pence from 0 to below £1,000,000."""
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        return False
    return 0 <= amount < 1_000_000 and round(amount, 2) == amount


def _check_schedule(schedule: dict) -> list[str]:
    problems = []
    if schedule.get("freq", "WEEKLY") != "WEEKLY":
        problems.append("only weekly schedules (freq WEEKLY) are supported")
    days = [d.strip() for d in (schedule.get("byday") or "").split(",") if d.strip()]
    if not days:
        problems.append("byday is missing (e.g. 'TU' or 'MO,TH')")
    for day in days:
        if day not in WEEKDAYS:
            problems.append(f"byday {day!r} is not a day of the week ({', '.join(WEEKDAYS)})")
    opens, closes = schedule.get("opens_at") or "", schedule.get("closes_at") or ""
    for label, value in (("opens_at", opens), ("closes_at", closes)):
        if not TIME.match(value):
            problems.append(f"{label} {value!r} is not a time (HH:MM)")
    if TIME.match(opens) and TIME.match(closes) and _time(closes) <= _time(opens):
        problems.append(f"closes_at {closes} is not after opens_at {opens}")
    return problems


def _time(value: str) -> dt.time:
    return dt.time.fromisoformat(value[:5])


def parse_time(value: str) -> dt.time:
    return _time(value)


def weekdays(schedule: dict) -> list[int]:
    return [WEEKDAYS.index(d.strip()) for d in schedule["byday"].split(",") if d.strip()]


def _concerto_code(organisation: dict) -> str | None:
    for identifier in organisation.get("organization_identifiers") or []:
        if isinstance(identifier, dict) and identifier.get("identifier_scheme") == CONCERTO_SCHEME:
            return str(identifier.get("identifier", "")) or None
    return None


def location_postcode(location: dict) -> tuple[str, str, str]:
    """(address_1, city, postcode) of the location's physical address, if any."""
    for address in location.get("addresses") or []:
        if address.get("address_type", "physical") == "physical":
            return address.get("address_1", ""), address.get("city", ""), address.get("postal_code", "")
    return "", "", ""


def cost_amount(option: dict) -> Decimal | None:
    amount = option.get("amount")
    return None if amount is None else Decimal(str(amount))


# --- writing ------------------------------------------------------------------------------------


def _linked_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def _amount(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _drop_empty(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if v not in ("", None, [])}


def service_to_oruk(service: Service) -> dict[str, Any]:
    """One service as an ORUK v3 service object (what `read` accepts back). Children are sorted
    here rather than in the database so that prefetched rows are used (`selectors.export_document`)."""
    org = service.organisation
    organisation = _drop_empty(
        {
            "id": org.oruk_id,
            "name": org.name,
            "description": org.description,
            "email": org.email,
            "website": org.website,
            "organization_identifiers": [
                {
                    "id": _linked_id(org.oruk_id, "concerto"),
                    "organization_id": org.oruk_id,
                    "identifier_scheme": CONCERTO_SCHEME,
                    "identifier_type": "Concerto organisation code",
                    "identifier": org.organisation.code,
                }
            ]
            if org.organisation
            else [],
        }
    )
    return _drop_empty(
        {
            "id": service.oruk_id,
            "organization_id": org.oruk_id,
            "name": service.name,
            "description": service.description,
            "url": service.url,
            "email": service.email,
            "status": service.status,
            "fees": service.fees_description,
            "minimum_age": service.minimum_age,
            "maximum_age": service.maximum_age,
            "assured_date": service.last_verified.isoformat() if service.last_verified else None,
            "last_modified": service.last_modified.isoformat().replace("+00:00", "Z"),
            "organization": organisation,
            "service_at_locations": [
                {
                    "id": _linked_id(service.oruk_id, loc.oruk_id),
                    "service_id": service.oruk_id,
                    "location_id": loc.oruk_id,
                    "location": _drop_empty(
                        {
                            "id": loc.oruk_id,
                            "location_type": "physical",
                            "name": loc.name,
                            "latitude": loc.latitude,
                            "longitude": loc.longitude,
                            "addresses": [
                                {
                                    "id": _linked_id(loc.oruk_id, "address"),
                                    "location_id": loc.oruk_id,
                                    "address_1": loc.address_1,
                                    "city": loc.city,
                                    "state_province": "",
                                    "postal_code": loc.postcode,
                                    "country": "GB",
                                    "address_type": "physical",
                                }
                            ],
                        }
                    ),
                }
                for loc in sorted(service.locations.all(), key=lambda loc: loc.oruk_id)
            ],
            "schedules": [
                _drop_empty(
                    {
                        "id": s.oruk_id,
                        "service_id": service.oruk_id,
                        "freq": "WEEKLY",
                        "byday": WEEKDAYS[s.weekday],
                        "opens_at": s.opens_at.strftime("%H:%M"),
                        "closes_at": s.closes_at.strftime("%H:%M"),
                        "description": s.description,
                    }
                )
                for s in sorted(service.schedules.all(), key=lambda s: (s.weekday, s.opens_at, s.oruk_id))
            ],
            "cost_options": [
                _drop_empty(
                    {
                        "id": c.oruk_id,
                        "service_id": service.oruk_id,
                        "option": c.option,
                        "amount": _amount(c.amount),
                        "amount_description": c.amount_description,
                    }
                )
                for c in sorted(service.cost_options.all(), key=lambda c: c.oruk_id)
            ],
            "contacts": [
                _drop_empty(
                    {
                        "id": c.oruk_id,
                        "service_id": service.oruk_id,
                        "name": c.name,
                        "title": c.title,
                        "phones": [{"id": _linked_id(c.oruk_id, "phone"), "contact_id": c.oruk_id, "number": c.phone}]
                        if c.phone
                        else [],
                    }
                )
                for c in sorted(service.contacts.all(), key=lambda c: c.oruk_id)
            ],
            "attributes": [
                {
                    "id": _linked_id(service.oruk_id, t.oruk_id),
                    "link_id": service.oruk_id,
                    "link_type": "service",
                    "taxonomy_term_id": t.oruk_id,
                    "taxonomy_term": _drop_empty(
                        {
                            "id": t.oruk_id,
                            "name": t.name,
                            "description": t.description or t.name,
                            "taxonomy": t.taxonomy,
                            "term": t.code,
                        }
                    ),
                }
                for t in sorted(service.terms.all(), key=lambda t: (t.taxonomy, t.code))
            ],
        }
    )
