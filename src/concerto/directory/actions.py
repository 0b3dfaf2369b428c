"""Directory and social prescribing writes.

Directory entries are not patient data, but who may change them matters: staff of a VCSE
organisation maintain only their own organisation's services (`_check_owner`); a whole-file import
by the system (the management command) may touch any. Social prescribing is patient data: every
write goes through the access policy and is audited, and a prescription *is* a referral (the
referrals app's no-wrong-door lifecycle) to the organisation that runs the service.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import DatabaseError, connection, transaction

from concerto.access import audit
from concerto.access.models import AuditAction, Consent, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import has_permission, patient_action, require_access
from concerto.core import clock
from concerto.core.errors import ConcertoError, InvalidInput, NotPermitted
from concerto.directory import oruk
from concerto.directory.models import (
    Attendance,
    Case,
    CostOption,
    DirectoryOrganisation,
    Location,
    ProgrammeActivity,
    Schedule,
    Service,
    ServiceContact,
    SocialPrescription,
    TaxonomyTerm,
    WellbeingScore,
    WhatMattersNote,
)
from concerto.directory.taxonomy import ensure_terms
from concerto.organisations.models import Organisation, OrganisationKind
from concerto.people.models import Patient
from concerto.referrals import actions as referrals
from concerto.referrals.models import NAMED_PERSON_STATUSES, Status

logger = logging.getLogger(__name__)


class ImportRejected(ConcertoError):
    """The file had problems: nothing was written. `problems` lists each, with its record."""

    def __init__(self, problems: list[oruk.Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the file; nothing was imported.")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


# --- the search index ---------------------------------------------------------------------------


def reindex(service: Service) -> None:
    """Keep the denormalised term names and (on SQLite) the FTS5 row in step with the service."""
    terms_text = " ".join(service.terms.order_by("name").values_list("name", flat=True))
    Service.objects.filter(pk=service.pk).update(terms_text=terms_text)
    service.terms_text = terms_text
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM directory_service_fts WHERE rowid = %s", [service.pk])
            cursor.execute(
                "INSERT INTO directory_service_fts (rowid, name, terms, description) VALUES (%s, %s, %s, %s)",
                [service.pk, service.name, terms_text, service.description],
            )


# --- import -------------------------------------------------------------------------------------


def _check_owner(by: Membership | None, organisation: Organisation | None) -> None:
    """None is the system (the import command). Staff change only their own organisation's entries."""
    if by is None:
        return
    if not has_permission(by, Permission.DIRECTORY_MANAGE):
        raise NotPermitted("Your role cannot change the directory.")
    if organisation is None or organisation.pk != by.organisation_id:
        raise NotPermitted("You can only change your own organisation's services.")


def import_services(*, text: str | bytes, by: Membership | None) -> ImportResult:
    """Import an Open Referral UK file. Every record is checked first (schema, our rules,
    ownership); any problem rejects the whole file with every problem listed, and nothing is
    written. The writes run in one transaction, so a failure part-way leaves nothing either.
    Records are matched on their ORUK ids, so importing the same file again changes nothing.
    (The checks run before the transaction so that the audit of a rejection is kept.)"""
    records, problems = oruk.read(text)
    organisations = {o.code: o for o in Organisation.objects.all()} if records else {}
    owners_in_file: dict[str, str | None] = {}
    for record in records:
        owner = organisations.get(record.organisation_code or "")
        message = _owner_problem(record, owner, by, owners_in_file)
        messages = ([message] if message else []) + _child_ids_taken(record)
        problems += [oruk.Problem(record.index, record.data["id"], record.data.get("name", ""), m) for m in messages]
    if problems:
        audit.record(by=by, action=AuditAction.DENIED, what="directory_import", detail={"problems": len(problems)})
        raise ImportRejected(sorted(problems, key=lambda p: p.record))
    try:
        return _write_all(records, organisations, by)
    except _WriteFailed as failed:
        # A backstop for anything the checks above missed: the transaction has rolled back; say
        # which record, keep the audit of the refusal, and never answer with a crash.
        logger.warning("directory import failed at record %s: %r", failed.record.index, failed.__cause__)
        record = failed.record
        problem = oruk.Problem(
            record.index,
            record.data["id"],
            record.data.get("name", ""),
            "this record could not be saved (it may clash with something already in the directory; the "
            "details are in the server log); nothing was imported",
        )
        audit.record(by=by, action=AuditAction.DENIED, what="directory_import", detail={"problems": 1})
        raise ImportRejected([problem]) from failed


class _WriteFailed(Exception):
    def __init__(self, record: oruk.ServiceRecord):
        self.record = record
        super().__init__(f"record {record.index}")


CHILD_MODELS: dict[str, type[Schedule | CostOption | ServiceContact]] = {
    "schedules": Schedule,
    "cost_options": CostOption,
    "contacts": ServiceContact,
}


def _child_ids_taken(record: oruk.ServiceRecord) -> list[str]:
    """Schedule, cost option and contact ids in the record that another service's rows already use."""
    messages = []
    for kind, ids in record.child_ids.items():
        wanted = {child_id: n for n, child_id in ids}
        taken = (
            CHILD_MODELS[kind]
            .objects.filter(oruk_id__in=wanted)
            .exclude(service__oruk_id=record.data["id"])
            .values_list("oruk_id", flat=True)
        )
        messages += [f"{kind}/{wanted[i]}: id {i} is already used by another service" for i in sorted(taken)]
    return messages


def _owner_problem(
    record: oruk.ServiceRecord, owner: Organisation | None, by: Membership | None, owners_in_file: dict[str, str | None]
) -> str | None:
    """Why this record may not be written by `by`, or None. Ownership of a directory organisation
    (whose staff edit its services and receive its referrals) and of a venue is never moved by a
    file: a VCSE's file touches only entries its own organisation already owns or new ones, and the
    system import reports a changed owner instead of applying it."""
    if record.organisation_code and owner is None:
        return f"organisation code {record.organisation_code!r} is not an organisation we know"
    if owner is not None and owner.kind != OrganisationKind.VCSE:
        return f"{owner.name} is not a voluntary or community organisation"
    org_id = record.organisation["id"]
    if owners_in_file.setdefault(org_id, record.organisation_code) != record.organisation_code:
        return f"organization {org_id} is given a different organisation code by an earlier record"
    existing = Service.objects.filter(oruk_id=record.data["id"]).select_related("organisation").first()
    if existing and existing.organisation.oruk_id != org_id:
        return "this service id already belongs to another organisation's service"
    entry = DirectoryOrganisation.objects.filter(oruk_id=org_id).select_related("organisation").first()
    if by is None:
        if entry is not None and entry.organisation_id != (owner.pk if owner else None):
            held_by = entry.organisation.name if entry.organisation else "no Concerto organisation"
            return (
                f"organization {org_id} is owned by {held_by} in the directory but the file says "
                f"{record.organisation_code or 'none'}; an import does not change who owns an entry"
            )
        return None
    try:
        _check_owner(by, owner)
    except NotPermitted as exc:
        return str(exc)
    if entry is not None and entry.organisation_id != by.organisation_id:
        return f"organization {org_id} belongs to another organisation in the directory"
    for location in record.locations:
        shared = Service.objects.filter(locations__oruk_id=location["id"]).exclude(
            organisation__organisation_id=by.organisation_id
        )
        if shared.exists():
            return (
                f"location {location['id']} is a venue another organisation's service uses; "
                "give your venue its own id (the other organisation keeps its details)"
            )
    return None


@transaction.atomic
def _write_all(
    records: list[oruk.ServiceRecord], organisations: dict[str, Organisation], by: Membership | None
) -> ImportResult:
    ensure_terms()
    created = updated = 0
    for record in records:
        try:
            is_new = _write(record, organisations.get(record.organisation_code or ""))
        except (DatabaseError, ValueError, ArithmeticError) as exc:
            raise _WriteFailed(record) from exc
        created += is_new
        updated += not is_new
    audit.record(
        by=by, action=AuditAction.CREATE, what="directory_import", detail={"created": created, "updated": updated}
    )
    return ImportResult(created, updated)


def _write(record: oruk.ServiceRecord, owner: Organisation | None) -> bool:
    data, org = record.data, record.organisation
    details = {
        "name": org["name"],
        "description": org["description"],
        "email": org.get("email", ""),
        "website": org.get("website", ""),
    }
    # The owner is set when the entry is created and never moved by an import (`_owner_problem`).
    directory_org, _ = DirectoryOrganisation.objects.update_or_create(
        oruk_id=org["id"], defaults=details, create_defaults=details | {"organisation": owner}
    )
    modified = data.get("last_modified")
    service, created = Service.objects.update_or_create(
        oruk_id=data["id"],
        defaults={
            "organisation": directory_org,
            "name": data["name"],
            "description": data.get("description", ""),
            "url": data.get("url", ""),
            "email": data.get("email", ""),
            "status": data["status"],
            "fees_description": data.get("fees", ""),
            "minimum_age": data.get("minimum_age"),
            "maximum_age": data.get("maximum_age"),
            "last_verified": dt.date.fromisoformat(data["assured_date"]) if data.get("assured_date") else None,
            "last_modified": (oruk.parse_datetime(modified) if modified else None) or clock.now(),
        },
    )
    locations = []
    for loc in record.locations:
        address_1, city, postcode = oruk.location_postcode(loc)
        location, _ = Location.objects.update_or_create(
            oruk_id=loc["id"],
            defaults={
                "name": loc.get("name", ""),
                "address_1": address_1,
                "city": city,
                "postcode": postcode,
                "latitude": loc.get("latitude"),
                "longitude": loc.get("longitude"),
            },
        )
        locations.append(location)
    service.locations.set(locations)
    service.schedules.all().delete()
    for schedule in data.get("schedules", []):
        for row_id, weekday in zip(oruk.schedule_row_ids(schedule), oruk.weekdays(schedule), strict=True):
            Schedule.objects.create(
                oruk_id=row_id,
                service=service,
                weekday=weekday,
                opens_at=oruk.parse_time(schedule["opens_at"]),
                closes_at=oruk.parse_time(schedule["closes_at"]),
                description=schedule.get("description", ""),
            )
    service.cost_options.all().delete()
    for option in data.get("cost_options", []):
        CostOption.objects.create(
            oruk_id=option["id"],
            service=service,
            option=option.get("option", ""),
            amount=oruk.cost_amount(option),
            amount_description=option.get("amount_description", ""),
        )
    service.contacts.all().delete()
    for contact in data.get("contacts", []):
        phones = contact.get("phones") or []
        ServiceContact.objects.create(
            oruk_id=contact["id"],
            service=service,
            name=contact.get("name", ""),
            title=contact.get("title", ""),
            phone=phones[0].get("number", "") if phones else "",
        )
    # Our own term rows (the file's codes were checked against our vocabularies; its ids are not trusted).
    service.terms.set([TaxonomyTerm.objects.get(taxonomy=taxonomy, code=code) for taxonomy, code, _ in record.terms])
    reindex(service)
    return created


# --- editing one's own services -----------------------------------------------------------------


@dataclass(frozen=True)
class Opening:
    weekday: int
    opens_at: dt.time
    closes_at: dt.time


@transaction.atomic
def save_service(
    *,
    by: Membership,
    service: Service | None = None,
    name: str,
    description: str,
    status: str,
    terms: list[TaxonomyTerm],
    openings: list[Opening],
    location_name: str = "",
    address: str = "",
    postcode: str = "",
    minimum_age: int | None = None,
    maximum_age: int | None = None,
    cost: Decimal | None = None,
    fees_description: str | None = None,
    email: str = "",
    url: str = "",
) -> Service:
    """Create or change one of the member's organisation's services. Saving it counts as verifying it.
    A `fees_description` of None keeps the one the service has (the form does not edit it)."""
    if service is not None:
        _check_owner(by, service.organisation.organisation)
    else:
        _check_owner(by, by.organisation)
    if not name.strip() or not description.strip():
        raise InvalidInput("Give the service a name and a description.")
    if minimum_age is not None and maximum_age is not None and minimum_age > maximum_age:
        raise InvalidInput("The minimum age cannot be above the maximum age.")
    for o in openings:
        if o.closes_at <= o.opens_at:
            raise InvalidInput("Each opening must close after it opens.")
    import uuid

    if service is None:
        directory_org = DirectoryOrganisation.objects.filter(organisation=by.organisation).first()
        if directory_org is None:
            directory_org = DirectoryOrganisation.objects.create(
                oruk_id=str(uuid.uuid4()),
                name=by.organisation.name,
                description=by.organisation.name,
                organisation=by.organisation,
            )
        service = Service(oruk_id=str(uuid.uuid4()), organisation=directory_org)
    service.name, service.description, service.status = name.strip(), description.strip(), status
    service.minimum_age, service.maximum_age = minimum_age, maximum_age
    service.email, service.url = email.strip(), url.strip()
    if fees_description is not None:
        service.fees_description = fees_description.strip()
    service.last_verified = clock.today()
    service.last_modified = clock.now()
    service.save()
    service.terms.set(terms)
    service.schedules.all().delete()
    for o in openings:
        Schedule.objects.create(
            oruk_id=str(uuid.uuid4()), service=service, weekday=o.weekday, opens_at=o.opens_at, closes_at=o.closes_at
        )
    service.cost_options.all().delete()
    CostOption.objects.create(
        oruk_id=str(uuid.uuid4()), service=service, option="Free" if not cost else "Charge", amount=cost or Decimal(0)
    )
    if postcode.strip():
        location = service.locations.first()
        if (
            location is not None
            and Service.objects.filter(locations=location)
            .exclude(organisation__organisation_id=by.organisation_id)
            .exists()
        ):
            location = None  # a venue shared with another organisation keeps its details: ours gets its own
        location = location or Location(oruk_id=str(uuid.uuid4()))
        location.name, location.address_1, location.postcode = location_name.strip(), address.strip(), postcode.strip()
        location.save()
        service.locations.set([location])
    reindex(service)
    audit.record(by=by, action=AuditAction.UPDATE, what="directory_service", detail={"service": service.oruk_id})
    return service


@transaction.atomic
def verify_service(*, service: Service, by: Membership) -> Service:
    """Someone from the organisation confirmed the entry is still right."""
    _check_owner(by, service.organisation.organisation)
    Service.objects.filter(pk=service.pk).update(last_verified=clock.today())
    audit.record(by=by, action=AuditAction.UPDATE, what="directory_verify", detail={"service": service.oruk_id})
    service.refresh_from_db()
    return service


@transaction.atomic
def record_programme_activity(
    *, service: Service, month: dt.date, sessions: int, participants: int, by: Membership
) -> ProgrammeActivity:
    """A life-course programme's monthly return (counts only). A second return for the month replaces the first."""
    _check_owner(by, service.organisation.organisation)
    if not service.terms.filter(taxonomy="concerto-life-course").exists():
        raise InvalidInput("Activity counts are for life-course programmes; tag the service with one first.")
    if sessions < 0 or participants < 0:
        raise InvalidInput("Counts cannot be negative.")
    month = month.replace(day=1)
    if month > clock.today():
        raise InvalidInput("The month cannot be in the future.")
    activity, _ = ProgrammeActivity.objects.update_or_create(
        service=service,
        month=month,
        defaults={"sessions": sessions, "participants": participants, "recorded_by": by, "recorded_at": clock.now()},
    )
    audit.record(by=by, action=AuditAction.CREATE, what="programme_activity", detail={"service": service.oruk_id})
    return activity


# --- social prescribing -------------------------------------------------------------------------


def _open_case(patient: Patient, by: Membership) -> Case:
    case = Case.objects.filter(patient=patient, link_worker=by, closed_on__isnull=True).first()
    return case or Case.objects.create(patient=patient, link_worker=by, opened_on=clock.today())


@patient_action(Permission.PATIENT_SOCIAL_PRESCRIBING, what="what_matters")
def add_what_matters(*, patient: Patient, text: str, by: Membership) -> WhatMattersNote:
    """A "what matters to me" note; the first opens the link worker's case for the person."""
    if not text.strip():
        raise InvalidInput("Write what matters to the person.")
    case = _open_case(patient, by)
    note = WhatMattersNote.objects.create(case=case, text=text.strip(), written_by=by, written_at=clock.now())
    audit.record(by=by, action=AuditAction.CREATE, what="what_matters", patient=patient, detail={"case": case.pk})
    return note


@transaction.atomic
def close_case(*, case: Case, by: Membership) -> Case:
    require_access(by, case.patient, Permission.PATIENT_SOCIAL_PRESCRIBING, what="social_prescribing_case")
    if case.link_worker_id != by.pk:
        raise NotPermitted("Only the link worker whose case it is can close it.")
    Case.objects.filter(pk=case.pk, closed_on__isnull=True).update(closed_on=clock.today())
    audit.record(by=by, action=AuditAction.UPDATE, what="social_prescribing_case", patient=case.patient)
    case.refresh_from_db()
    return case


def _takes_referrals(service: Service) -> Organisation:
    owner = service.organisation.organisation
    if service.status != "active":
        raise InvalidInput(f"{service.name} is not running at the moment ({service.status}).")
    if owner is None or owner.kind != OrganisationKind.VCSE:
        raise InvalidInput(
            f"{service.name} does not take referrals through Concerto: contact them directly "
            f"({service.email or service.url or 'see the directory entry'})."
        )
    return owner


@patient_action(Permission.REFERRAL_MAKE, what="social_prescription")
def prescribe(
    *,
    patient: Patient,
    service: Service,
    reason: str,
    by: Membership,
    consent_confirmed: bool = False,
    idempotency_key: str | None = None,
) -> SocialPrescription:
    """Refer the person to a directory service: a referral to the organisation that runs it (with
    the patient's agreement to share, which the referral records), linked to the service. The
    same form sent twice makes one prescription."""
    owner = _takes_referrals(service)
    referral = referrals.refer(
        patient=patient,
        destination=owner,
        reason=f"{service.name}: {reason.strip()}" if reason.strip() else "",
        by=by,
        idempotency_key=idempotency_key,
        consent_confirmed=consent_confirmed,
    )
    existing = SocialPrescription.objects.filter(referral=referral).first()
    if existing is not None:
        return existing
    case = None
    if has_permission(by, Permission.PATIENT_SOCIAL_PRESCRIBING):
        case = _open_case(patient, by)
    prescription = SocialPrescription.objects.create(referral=referral, service=service, case=case)
    audit.record(
        by=by,
        action=AuditAction.CREATE,
        what="social_prescription",
        patient=patient,
        detail={"prescription": prescription.pk, "service": service.oruk_id, "referral": referral.pk},
    )
    return prescription


@transaction.atomic
def accept(*, prescription: SocialPrescription, version: int, by: Membership) -> SocialPrescription:
    """The service takes the person on, the accepting worker as their named person."""
    referrals.accept(
        referral=prescription.referral,
        version=version,
        named_person=by,
        rationale=f"Accepted for {prescription.service.name}",
        by=by,
    )
    prescription.referral.refresh_from_db()
    return prescription


@transaction.atomic
def decline(
    *, prescription: SocialPrescription, version: int, to_service: Service, handover_note: str, by: Membership
) -> SocialPrescription:
    """ "Not for us" is never a dead end: the service hands the person over to another directory
    service (the onward referral keeps the first clock); the link worker sees where they went."""
    destination = _takes_referrals(to_service)
    if destination.pk == prescription.referral.destination_id:
        raise InvalidInput("Choose a service run by another organisation.")
    consented = Consent.objects.filter(
        patient=prescription.referral.patient, organisation_kind=destination.kind, granted=True
    ).exists()
    onward = referrals.redirect(
        referral=prescription.referral,
        version=version,
        destination=destination,
        handover_note=f"Suggested: {to_service.name}. {handover_note.strip()}" if handover_note.strip() else "",
        by=by,
        consent_confirmed=consented,
    )
    redirected = SocialPrescription.objects.create(referral=onward, service=to_service, case=prescription.case)
    audit.record(
        by=by,
        action=AuditAction.CREATE,
        what="social_prescription",
        patient=onward.patient,
        detail={"prescription": redirected.pk, "redirected_from": prescription.pk, "service": to_service.oruk_id},
    )
    return redirected


def _check_service_member(by: Membership, prescription: SocialPrescription) -> None:
    require_access(by, prescription.referral.patient, Permission.PATIENT_VIEW_DEMOGRAPHICS, what="attendance")
    if by.organisation_id != prescription.referral.destination_id or not has_permission(by, Permission.REFERRAL_MANAGE):
        raise NotPermitted("Only the organisation running the service can record attendance.")


@transaction.atomic
def record_attendance(*, prescription: SocialPrescription, on: dt.date, attended: bool, by: Membership) -> Attendance:
    """The service records a session. The first attended session stops the referral's
    first-contact clock (the VCSE standard), written here because attending a community group is
    not a clinical contact and VCSE staff do not record clinical contacts."""
    _check_service_member(by, prescription)
    referral = prescription.referral
    if referral.status not in NAMED_PERSON_STATUSES:
        raise InvalidInput("Accept the referral before recording attendance.")
    if on > clock.today():
        raise InvalidInput("The date cannot be in the future.")
    if on < referral.received_on:
        raise InvalidInput(f"The date cannot be before the referral ({referral.received_on:%-d %B %Y}).")
    attendance = Attendance.objects.create(
        prescription=prescription, date=on, attended=attended, recorded_by=by, recorded_at=clock.now()
    )
    if attended:
        referrals.record_first_contact(referral, on)
    audit.record(
        by=by,
        action=AuditAction.CREATE,
        what="attendance",
        patient=referral.patient,
        detail={"prescription": prescription.pk, "attended": attended},
    )
    return attendance


@transaction.atomic
def record_wellbeing(
    *,
    prescription: SocialPrescription,
    on: dt.date,
    life_satisfaction: int,
    worthwhile: int,
    happiness: int,
    anxiety: int,
    by: Membership,
) -> WellbeingScore:
    """ONS4 scores (0–10), asked by the link worker or the service."""
    patient = prescription.referral.patient
    if has_permission(by, Permission.PATIENT_SOCIAL_PRESCRIBING):
        require_access(by, patient, Permission.PATIENT_SOCIAL_PRESCRIBING, what="wellbeing")
    else:
        _check_service_member(by, prescription)
    scores = (life_satisfaction, worthwhile, happiness, anxiety)
    if any(type(s) is not int or not 0 <= s <= 10 for s in scores):  # not bool, not 5.5 stored as 5
        raise InvalidInput("Each wellbeing score is a whole number from 0 to 10.")
    referral = prescription.referral
    # While the person is with the service, or at the end of completed support; not after a
    # hand-over (the onward prescription carries on), a withdrawal or their decline.
    if not referral.is_open and referral.status != Status.COMPLETED:
        raise InvalidInput(
            f"The referral was {referral.get_status_display().lower()}: record wellbeing on the one that carries on."
        )
    if on > clock.today():
        raise InvalidInput("The date cannot be in the future.")
    if on < referral.received_on:
        raise InvalidInput(f"The date cannot be before the referral ({referral.received_on:%-d %B %Y}).")
    score = WellbeingScore.objects.create(
        prescription=prescription,
        date=on,
        life_satisfaction=life_satisfaction,
        worthwhile=worthwhile,
        happiness=happiness,
        anxiety=anxiety,
        recorded_by=by,
        recorded_at=clock.now(),
    )
    audit.record(
        by=by, action=AuditAction.CREATE, what="wellbeing", patient=patient, detail={"prescription": prescription.pk}
    )
    return score
