"""Referral writes: every transition goes through `_move`, which checks the state machine, who may
act, and the version the person was looking at (optimistic locking), then records the history,
audits, and tells the referrer and the patient."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.db.models import Q

from concerto import notifications
from concerto.access import audit
from concerto.access.actions import record_sharing_agreement
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import CONSENT_REQUIRED, has_permission, patient_action, require_access
from concerto.core import clock
from concerto.core.errors import ConcertoError, InvalidInput, NotPermitted
from concerto.organisations.models import Organisation, OrganisationKind
from concerto.people.models import Patient
from concerto.referrals import machine, standards
from concerto.referrals.models import (
    NAMED_PERSON_STATUSES,
    Contact,
    ContactOutcome,
    Episode,
    Referral,
    ReferralEvent,
    Source,
    Status,
)

logger = logging.getLogger(__name__)


class Conflict(ConcertoError):
    """Someone else changed the referral since it was shown: nothing was saved."""


CONFLICT_MESSAGE = (
    "Someone else changed this referral while you were looking at it. Nothing was saved: "
    "check its new status, then decide again."
)


def may_manage(by: Membership, referral: Referral) -> bool:
    """Staff of the owning team, or the PCN triage hub for teams aligned to the PCN."""
    if not has_permission(by, Permission.REFERRAL_MANAGE):
        return False
    if by.organisation_id == referral.destination_id:
        return True
    return by.organisation.kind == OrganisationKind.PCN and referral.destination.aligned_pcn_id == by.organisation_id


@patient_action(Permission.REFERRAL_MAKE, what="referral")
def refer(
    *,
    patient: Patient,
    destination: Organisation,
    reason: str,
    by: Membership,
    idempotency_key: str | None = None,
    received_on: dt.date | None = None,
    consent_confirmed: bool = False,
) -> Referral:
    """Refer a patient. The same idempotency key twice (a double click, a retried request)
    creates one referral and returns it both times; the same key with a different patient,
    destination or reason is refused, so nothing is silently lost."""
    existing = _already_sent(idempotency_key, patient, destination, reason)
    if existing is not None:
        return existing
    _check_sharing(patient, destination, consent_confirmed, by)
    referral, created = _create(
        patient=patient,
        destination=destination,
        reason=reason,
        source=Source.PROFESSIONAL,
        referrer=by,
        idempotency_key=idempotency_key,
        received_on=received_on,
    )
    if created:
        audit.record(
            by=by,
            action=AuditAction.CREATE,
            what="referral",
            patient=patient,
            detail={"referral": referral.pk, "destination": destination.code},
        )
    return referral


# Services a person may refer themselves to from the portal. Crisis care is not one: in a crisis the
# portal shows the crisis plan's contacts and NHS 111 option 2 instead of a form that waits for triage.
SELF_REFERRAL_PATHWAYS = frozenset({"cmht", "eip", "ips", "psych_therapies"})


def self_referral_destinations(patient: Patient) -> list[Organisation]:
    """Teams in the patient's own ICB that take self-referrals: those aligned to their practice's PCN,
    or to no PCN. Nobody without a current registration is offered any (their practice refers)."""
    from concerto.people.models import Registration

    today = clock.today()
    registration = (
        Registration.objects.filter(patient=patient, start__lte=today)
        .filter(Q(end__isnull=True) | Q(end__gte=today))
        .select_related("practice__parent")
        .order_by("-start")
        .first()
    )
    if registration is None or registration.practice.parent is None:
        return []
    pcn = registration.practice.parent
    return list(
        Organisation.objects.filter(
            kind=OrganisationKind.MH_TEAM, team_type__in=SELF_REFERRAL_PATHWAYS, parent__parent_id=pcn.parent_id
        )
        .filter(Q(aligned_pcn_id=pcn.pk) | Q(aligned_pcn__isnull=True))
        .order_by("name")
    )


@transaction.atomic
def self_refer(*, patient: Patient, destination: Organisation, reason: str, idempotency_key: str) -> Referral:
    """A patient refers themselves (from the portal, signed in as themselves): the referral enters the
    same triage as any other, marked as a self-referral, with the patient audited as the actor."""
    if destination not in self_referral_destinations(patient):
        raise InvalidInput("Choose one of the services listed.")
    existing = _already_sent(idempotency_key, patient, destination, reason)
    if existing is not None:
        return existing
    referral, created = _create(
        patient=patient,
        destination=destination,
        reason=reason,
        source=Source.SELF,
        referrer=None,
        idempotency_key=idempotency_key,
        received_on=None,
    )
    if created:
        audit.record_by_patient(
            patient=patient,
            action=AuditAction.CREATE,
            what="self_referral",
            detail={"referral": referral.pk, "destination": destination.code},
        )
    return referral


def _already_sent(idempotency_key: str | None, patient: Patient, destination: Organisation, reason: str):
    if not idempotency_key:
        return None
    existing = Referral.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        return None
    if existing.patient_id != patient.pk:
        raise InvalidInput("This form was already used for another patient; start a new referral.")
    if existing.destination_id != destination.pk or existing.reason != reason.strip():
        raise InvalidInput(
            f"This form was already sent, to {existing.destination.name}. To refer somewhere else "
            "as well, start a new referral."
        )
    return existing


def _create(
    *,
    patient: Patient,
    destination: Organisation,
    reason: str,
    source: str,
    referrer: Membership | None,
    idempotency_key: str | None,
    received_on: dt.date | None,
) -> tuple[Referral, bool]:
    """Create the referral and its first history entry; (referral, False) if a racing submission with
    the same idempotency key won."""
    pathway = _pathway_of(destination)
    if not reason.strip():
        raise InvalidInput("Say why you are referring.")
    today = received_on or clock.today()
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                patient=patient,
                pathway=pathway,
                destination=destination,
                reason=reason.strip(),
                referrer=referrer,
                source=source,
                clock_start=today,
                received_on=today,
                idempotency_key=idempotency_key,
                created_at=clock.now(),
            )
    except IntegrityError:
        # Two submissions raced with the same key: the other one won; return it.
        existing = Referral.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    ReferralEvent.objects.create(referral=referral, to_status=Status.RECEIVED, at=clock.now(), by=referrer, note=reason)
    _notify_after_commit(referral)
    return referral, True


def _check_named_person(referral: Referral, named_person: Membership) -> None:
    if named_person.organisation_id != referral.destination_id or not named_person.is_active:
        raise InvalidInput("The named person must work for the team the referral is to.")


def _close_episode(referral: Referral) -> None:
    Episode.objects.filter(referral=referral, closed_on__isnull=True).update(closed_on=clock.today())


def _pathway_of(destination: Organisation) -> str:
    pathway = standards.pathway_for(destination)
    if pathway is None or pathway not in standards.load():
        raise InvalidInput(f"{destination.name} does not take referrals.")
    return pathway


def _check_sharing(patient: Patient, destination: Organisation, consent_confirmed: bool, by: Membership) -> None:
    """A council or VCSE partner sees nothing without the patient's agreement: referring there
    needs it, and records it (otherwise the referral would have an owner unable to open it)."""
    if destination.kind not in CONSENT_REQUIRED:
        return
    if not consent_confirmed:
        raise InvalidInput(
            f"Confirm that the patient agrees to share their details with {destination.name} before referring there."
        )
    record_sharing_agreement(patient=patient, organisation_kind=destination.kind, by=by)


def _check_manager(by: Membership, referral: Referral) -> None:
    require_access(by, referral.patient, Permission.PATIENT_VIEW_DEMOGRAPHICS, what="referral")
    if not may_manage(by, referral):
        raise NotPermitted("Only the team that owns this referral (or its PCN triage hub) can do that.")


def _move(referral: Referral, to: str, *, version: int, by: Membership, note: str = "", **fields) -> Referral:
    """Move the referral to `to` if it is still at `version`; exactly one of two people acting on
    the same version wins, the other gets a Conflict and nothing of theirs is saved."""
    if not machine.can_move(referral.status, to):
        raise InvalidInput(machine.explain(referral.status, to))
    if not machine.is_open(to):
        fields["closed_on"] = clock.today()
    updated = Referral.objects.filter(pk=referral.pk, version=version, status=referral.status).update(
        status=to, version=version + 1, **fields
    )
    if updated != 1:
        raise Conflict(CONFLICT_MESSAGE)
    ReferralEvent.objects.create(
        referral=referral, from_status=referral.status, to_status=to, at=clock.now(), by=by, note=note
    )
    audit.record(
        by=by,
        action=AuditAction.UPDATE,
        what="referral",
        patient=referral.patient,
        detail={"referral": referral.pk, "from": referral.status, "to": to},
    )
    referral.refresh_from_db()
    _notify_after_commit(referral)
    return referral


@transaction.atomic
def triage(*, referral: Referral, version: int, rationale: str, by: Membership) -> Referral:
    _check_manager(by, referral)
    if not rationale.strip():
        raise InvalidInput("Record the triage rationale.")
    return _move(referral, Status.TRIAGED, version=version, by=by, note=rationale, triage_rationale=rationale.strip())


@transaction.atomic
def accept(*, referral: Referral, version: int, named_person: Membership, rationale: str, by: Membership) -> Referral:
    """Accept, naming the person who owns it from now on; this opens an episode of care with them
    as key worker."""
    _check_manager(by, referral)
    _check_named_person(referral, named_person)
    referral = _move(
        referral,
        Status.ACCEPTED,
        version=version,
        by=by,
        note=rationale,
        named_person=named_person,
        triage_rationale=rationale.strip() or referral.triage_rationale,
    )
    Episode.objects.create(
        patient=referral.patient,
        team=referral.destination,
        referral=referral,
        key_worker=named_person,
        opened_on=clock.today(),
    )
    return referral


@transaction.atomic
def redirect(
    *,
    referral: Referral,
    version: int,
    destination: Organisation,
    handover_note: str,
    by: Membership,
    consent_confirmed: bool = False,
) -> Referral:
    """ "Not for us" is only ever a redirect: a warm hand-over to a named destination. The onward
    referral keeps the first clock and links back."""
    _check_manager(by, referral)
    if not handover_note.strip():
        raise InvalidInput("Write a hand-over note for the service you are redirecting to.")
    if destination.pk == referral.destination_id:
        raise InvalidInput("Choose a different service to redirect to.")
    pathway = _pathway_of(destination)
    _check_sharing(referral.patient, destination, consent_confirmed, by)
    old = _move(
        referral,
        Status.REDIRECTED,
        version=version,
        by=by,
        note=handover_note,
        handover_note=handover_note.strip(),
        closing_reason=f"Redirected to {destination.name}",
    )
    _close_episode(old)
    onward = Referral.objects.create(
        patient=old.patient,
        pathway=pathway,
        destination=destination,
        reason=old.reason,
        referrer=old.referrer,
        source=Source.REDIRECT,
        clock_start=old.clock_start,
        received_on=clock.today(),
        redirected_from=old,
        handover_note=handover_note.strip(),
        created_at=clock.now(),
    )
    ReferralEvent.objects.create(
        referral=onward,
        to_status=Status.RECEIVED,
        at=clock.now(),
        by=by,
        note=f"Redirected from {old.destination.name}: {handover_note.strip()}",
    )
    audit.record(
        by=by,
        action=AuditAction.CREATE,
        what="referral",
        patient=old.patient,
        detail={"referral": onward.pk, "redirected_from": old.pk, "destination": destination.code},
    )
    _notify_after_commit(onward)
    return onward


@transaction.atomic
def record_assessment(*, referral: Referral, version: int, on: dt.date, by: Membership) -> Referral:
    _check_manager(by, referral)
    _not_before(on, referral.received_on)
    return _move(referral, Status.ASSESSED, version=version, by=by, assessed_on=on)


@transaction.atomic
def start_treatment(*, referral: Referral, version: int, on: dt.date, by: Membership) -> Referral:
    _check_manager(by, referral)
    _not_before(on, referral.assessed_on or referral.received_on)
    return _move(referral, Status.IN_TREATMENT, version=version, by=by, treatment_started_on=on)


@transaction.atomic
def complete(*, referral: Referral, version: int, note: str, by: Membership) -> Referral:
    _check_manager(by, referral)
    referral = _move(referral, Status.COMPLETED, version=version, by=by, note=note, closing_reason=note.strip())
    _close_episode(referral)
    return referral


@transaction.atomic
def decline_by_patient(*, referral: Referral, version: int, reason: str, by: Membership) -> Referral:
    _check_manager_or_referrer(by, referral)
    if not reason.strip():
        raise InvalidInput("Record what the patient said.")
    referral = _move(
        referral, Status.DECLINED_BY_PATIENT, version=version, by=by, note=reason, closing_reason=reason.strip()
    )
    _close_episode(referral)
    return referral


@transaction.atomic
def withdraw(*, referral: Referral, version: int, reason: str, by: Membership) -> Referral:
    _check_manager_or_referrer(by, referral)
    if not may_withdraw(by, referral):
        raise NotPermitted(
            "A community service cannot withdraw a referral: hand the person over to another service "
            "(Social prescriptions: hand over), or record their own decline. The referrer can withdraw it."
        )
    if not reason.strip():
        raise InvalidInput("Say why the referral is withdrawn.")
    referral = _move(referral, Status.WITHDRAWN, version=version, by=by, note=reason, closing_reason=reason.strip())
    _close_episode(referral)
    return referral


def _is_referrer_side(by: Membership, referral: Referral) -> bool:
    referrer = referral.referrer
    return (
        referrer is not None
        and by.organisation_id == referrer.organisation_id
        and has_permission(by, Permission.REFERRAL_MAKE)
    )


def may_withdraw(by: Membership, referral: Referral) -> bool:
    """The referrer's side may withdraw a referral no longer needed, and so may the owning team,
    except for a community (VCSE) referral, a social prescription: there "not for us" is only a
    hand-over to another service, or the person's own decline, so the service cannot simply drop it."""
    if _is_referrer_side(by, referral):
        return True
    return may_manage(by, referral) and referral.pathway != "vcse"


def _check_manager_or_referrer(by: Membership, referral: Referral) -> None:
    if _is_referrer_side(by, referral):
        require_access(by, referral.patient, Permission.PATIENT_VIEW_DEMOGRAPHICS, what="referral")
        return
    _check_manager(by, referral)


def _not_before(on: dt.date, earliest: dt.date) -> None:
    if on > clock.today():
        raise InvalidInput("The date cannot be in the future.")
    if on < earliest:
        raise InvalidInput(f"The date cannot be before {earliest:%-d %B %Y}.")


@transaction.atomic
def record_contact(*, episode: Episode, on: dt.date, outcome: str, by: Membership, note: str = "") -> Contact:
    """A contact in an episode. The first attended contact stops the referral's first-contact clock."""
    referral = episode.referral
    require_access(by, episode.patient, Permission.PATIENT_RECORD_CLINICAL, what="contact")
    if by.organisation_id != episode.team_id:
        raise NotPermitted("Only the team running this episode can record its contacts.")
    if outcome not in ContactOutcome.values:
        raise InvalidInput("Contact outcome must be attended, did not attend or cancelled.")
    _not_before(on, min(episode.opened_on, referral.received_on))
    contact = Contact.objects.create(
        episode=episode, date=on, outcome=outcome, with_member=by, note=note.strip(), recorded_at=clock.now()
    )
    if outcome == ContactOutcome.ATTENDED:
        record_first_contact(referral, on)
    audit.record(
        by=by,
        action=AuditAction.CREATE,
        what="contact",
        patient=episode.patient,
        detail={"episode": episode.pk, "outcome": outcome},
    )
    return contact


def record_first_contact(referral: Referral, on: dt.date) -> None:
    """Stop the first-contact clock at the earliest attended contact, even one recorded late.
    Called inside the caller's transaction (a team's contact, or a community service's attendance)."""
    Referral.objects.filter(pk=referral.pk).filter(
        Q(first_contact_on__isnull=True) | Q(first_contact_on__gt=on)
    ).update(first_contact_on=on)


# --- telling people -----------------------------------------------------------------------------


def _notify_after_commit(referral: Referral) -> None:
    transaction.on_commit(lambda: notify_status(referral.pk))


def notify_status(referral_id: int, backend=None) -> list[notifications.Receipt]:
    """Tell the referrer (by email, if they have one) and the patient (by text, if they have a
    mobile) the referral's new status. A failure to send never undoes the change: it is logged
    (with the referral id only) for the team to follow up."""
    referral = Referral.objects.select_related("patient", "destination", "referrer__user").get(pk=referral_id)
    backend = backend or notifications.get_backend()
    status = Status(referral.status).label.lower()
    messages = []
    referrer_email = referral.referrer.user.email if referral.referrer else ""
    if referrer_email:
        messages.append(
            notifications.Message(
                channel=notifications.Channel.EMAIL,
                to=referrer_email,
                template="referral_status_staff",
                personalisation={"service": referral.destination.name, "status": status},
                reference=f"referral-{referral.pk}",
            )
        )
    if referral.patient.mobile_phone:
        # A text can be read by anyone holding the phone: it never names the service (a "crisis
        # team" or "psychosis service" says too much); the detail is for the portal or a call.
        messages.append(
            notifications.Message(
                channel=notifications.Channel.SMS,
                to=referral.patient.mobile_phone,
                template="referral_status",
                personalisation={"name": referral.patient.given_name},
                reference=f"referral-{referral.pk}",
            )
        )
    receipts = []
    for message in messages:
        try:
            receipts.append(backend.send(message))
        except notifications.NotificationError as exc:
            logger.warning("referral %s: status message not sent: %s", referral.pk, exc.message)
    return receipts


@transaction.atomic
def reassign(*, referral: Referral, version: int, named_person: Membership, by: Membership) -> Referral:
    """Hand the referral (and its episode) to another named person in the team, e.g. when someone
    leaves; the status stays, the version moves on."""
    _check_manager(by, referral)
    if referral.status not in NAMED_PERSON_STATUSES:
        raise InvalidInput("Only an accepted referral has a named person to change.")
    _check_named_person(referral, named_person)
    updated = Referral.objects.filter(pk=referral.pk, version=version).update(
        named_person=named_person, version=version + 1
    )
    if updated != 1:
        raise Conflict(CONFLICT_MESSAGE)
    Episode.objects.filter(referral=referral, closed_on__isnull=True).update(key_worker=named_person)
    ReferralEvent.objects.create(
        referral=referral,
        from_status=referral.status,
        to_status=referral.status,
        at=clock.now(),
        by=by,
        note=f"Named person now {named_person.user.get_full_name()}",
    )
    audit.record(
        by=by,
        action=AuditAction.UPDATE,
        what="referral",
        patient=referral.patient,
        detail={"referral": referral.pk, "named_person": named_person.pk},
    )
    referral.refresh_from_db()
    return referral
