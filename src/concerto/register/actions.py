"""Writes for the SMI register: recording a check, follow-ups, care adjustments, invitations."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count

from concerto import notifications
from concerto.access import audit
from concerto.access.models import AuditAction, Membership
from concerto.access.permissions import Permission
from concerto.access.policy import can_access_patient, patient_action, require_access, visible_patients
from concerto.core import clock
from concerto.core.errors import InvalidInput
from concerto.people.models import Patient
from concerto.records.actions import record_clinical_event
from concerto.register import rules as rules_module
from concerto.register.models import (
    Channel,
    FollowUp,
    FollowUpStatus,
    Invitation,
    InvitationBatch,
    InvitationStatus,
    Response,
)
from concerto.register.queries import CODES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Measure:
    label: str
    unit: str
    low: Decimal
    high: Decimal
    code_key: str  # key into the rules file's record_codes


# Plausible ranges: outside them a value is almost certainly mistyped (or in the wrong unit).
MEASURES: dict[str, Measure] = {
    "weight": Measure("Weight", "kg", Decimal(20), Decimal(350), "weight"),
    "height": Measure("Height", "cm", Decimal(100), Decimal(250), "height"),
    "bmi": Measure("BMI", "kg/m2", Decimal(10), Decimal(90), "bmi"),
    "systolic": Measure("Systolic blood pressure", "mmHg", Decimal(60), Decimal(260), "systolic"),
    "diastolic": Measure("Diastolic blood pressure", "mmHg", Decimal(30), Decimal(160), "diastolic"),
    "pulse": Measure("Pulse", "beats/min", Decimal(30), Decimal(220), "pulse"),
    "total_cholesterol": Measure("Total cholesterol", "mmol/L", Decimal("1.0"), Decimal("20.0"), "total_cholesterol"),
    "hba1c": Measure("HbA1c", "mmol/mol", Decimal(15), Decimal(200), "hba1c"),
    "fasting_glucose": Measure("Fasting glucose", "mmol/L", Decimal("1.0"), Decimal("40.0"), "fasting_glucose"),
    "alcohol_units_week": Measure("Alcohol (units a week)", "U/week", Decimal(0), Decimal(300), "alcohol_units_week"),
}
SMOKING_CODE_KEYS = {"current": "smoking_current", "ex": "smoking_ex", "never": "smoking_never"}


def validate_measurements(
    values: dict[str, Decimal | None], smoking: str | None, *, allow_empty: bool = False
) -> dict[str, Decimal]:
    """The measurements given, checked against plausible ranges; BMI worked out from weight and
    height when those are given without it. Raises InvalidInput naming every problem."""
    problems = []
    given = {k: v for k, v in values.items() if v is not None}
    for key in given:
        if key not in MEASURES:
            problems.append(f"Unknown measurement {key!r}.")
    for key, value in given.items():
        m = MEASURES.get(key)
        if m and not m.low <= value <= m.high:
            problems.append(f"{m.label} must be between {m.low} and {m.high} {m.unit}.")
    if ("systolic" in given) != ("diastolic" in given):
        problems.append("Enter both systolic and diastolic blood pressure.")
    elif "systolic" in given and given["systolic"] <= given["diastolic"]:
        problems.append("Systolic blood pressure must be higher than diastolic.")
    if smoking is not None and smoking not in SMOKING_CODE_KEYS:
        problems.append("Smoking status must be current, ex or never.")
    if "bmi" not in given and "weight" in given and "height" in given and not problems:
        metres = given["height"] / 100
        given["bmi"] = (given["weight"] / (metres * metres)).quantize(Decimal("0.1"))
        bmi = MEASURES["bmi"]
        if not bmi.low <= given["bmi"] <= bmi.high:
            problems.append(
                f"Weight and height give a BMI of {given['bmi']}, outside {bmi.low} to {bmi.high}: check both."
            )
    if problems:
        raise InvalidInput(" ".join(problems))
    if not given and smoking is None and not allow_empty:
        raise InvalidInput("Enter at least one measurement, or record what the patient declined.")
    return given


@patient_action(Permission.PATIENT_RECORD_CLINICAL, what="physical_health_check")
def record_health_check(
    *,
    patient: Patient,
    date: dt.date,
    values: dict[str, Decimal | None],
    smoking: str | None = None,
    declined: Iterable[str] = (),
    by: Membership,
) -> list:
    """Record one encounter's check as coded events (one per measurement, and one "declined" code
    per element the patient declined), all or nothing."""
    rules = rules_module.load()
    declined = list(declined)
    unknown = [key for key in declined if key not in {e.key for e in rules.elements}]
    if unknown:
        raise InvalidInput(f"Unknown element {unknown[0]!r}.")
    given = validate_measurements(values, smoking, allow_empty=bool(declined))
    events = [
        record_clinical_event(
            patient=patient,
            code=rules.record_codes[MEASURES[key].code_key],
            date=date,
            value=value,
            unit=MEASURES[key].unit,
            by=by,
        )
        for key, value in given.items()
    ]
    if smoking is not None:
        events.append(
            record_clinical_event(
                patient=patient, code=rules.record_codes[SMOKING_CODE_KEYS[smoking]], date=date, by=by
            )
        )
    for key in declined:
        element = rules.element(key)
        if not element.declined:
            raise InvalidInput(f"{element.label} has no 'declined' code in the rules file.")
        events.append(record_clinical_event(patient=patient, code=min(element.declined), date=date, by=by))
    return events


@patient_action(Permission.PATIENT_RECORD_CLINICAL, what="follow_up")
def record_follow_up(
    *, patient: Patient, kind: str, status: str, date: dt.date, note: str = "", by: Membership
) -> FollowUp:
    rules = rules_module.load()
    if kind not in {i.key for i in rules.interventions}:
        raise InvalidInput(f"Unknown follow-up {kind!r}.")
    if status not in FollowUpStatus.values:
        raise InvalidInput("Follow-up status must be offered, declined or completed.")
    if date > clock.today():
        raise InvalidInput("The date cannot be in the future.")
    follow_up = FollowUp.objects.create(
        patient=patient,
        kind=kind,
        status=status,
        date=date,
        note=note.strip(),
        recorded_by=by,
        recorded_at=clock.now(),
    )
    audit.record(
        by=by, action=AuditAction.CREATE, what="follow_up", patient=patient, detail={"kind": kind, "status": status}
    )
    return follow_up


CARE_ADJUSTMENTS = {"dissent": "Informed dissent", "unsuitable": "Unsuitable"}


@patient_action(Permission.PATIENT_RECORD_CLINICAL, what="care_adjustment")
def record_care_adjustment(*, patient: Patient, reason: str, date: dt.date, by: Membership):
    """A QOF personalised care adjustment, recorded as its coded event (MHPCADEC/MHPCAPU)."""
    codes = {"dissent": CODES.dissent, "unsuitable": CODES.unsuitable}
    if reason not in codes:
        raise InvalidInput("A care adjustment is informed dissent or unsuitable.")
    return record_clinical_event(patient=patient, code=codes[reason][0], date=date, by=by)


# --- invitations ---------------------------------------------------------------------------

INVITATION_CODES = {
    Channel.SMS: "1084191000000101",  # Mental health monitoring SMS text invitation
    Channel.PHONE: "248551000000108",  # Mental health monitoring telephone invitation
    Channel.IN_PERSON: "416883000",  # Mental health monitoring verbal invitation
}
LETTER_CODES = ("414668005", "414670001", "414671002")  # first, second, third letter
SENT_BY_NOTIFICATION = {Channel.SMS: notifications.Channel.SMS, Channel.LETTER: notifications.Channel.LETTER}


def _practice_name(patient: Patient) -> str:
    reg = patient.registrations.filter(end__isnull=True).select_related("practice").first()
    return reg.practice.name if reg else "your GP practice"


def _deliver(invitation: Invitation, backend) -> tuple[str, str, str]:
    """Hand one invitation to the backend: (status, error, notification id). No database writes,
    so no transaction is held open while an outside service answers."""
    patient, channel = invitation.patient, Channel(invitation.channel)
    if channel not in SENT_BY_NOTIFICATION:  # a phone call or a conversation: recorded as made
        return InvitationStatus.SENT, "", ""
    if channel == Channel.SMS and not patient.mobile_phone:
        return InvitationStatus.FAILED, "No mobile number recorded.", ""
    if channel == Channel.LETTER and not patient.address.strip():
        return InvitationStatus.FAILED, "No postal address recorded.", ""
    to = (
        patient.mobile_phone
        if channel == Channel.SMS
        else tuple(line.strip() for line in patient.address.splitlines() if line.strip())
    )
    message = notifications.Message(
        channel=SENT_BY_NOTIFICATION[channel],
        to=to,
        template="phc_invitation",
        personalisation={"name": patient.given_name, "practice": _practice_name(patient)},
        reference=f"invitation-{invitation.pk}",  # ours, never patient data
    )
    try:
        receipt = backend.send(message)
    except notifications.NotificationError as exc:
        return InvitationStatus.FAILED, exc.message[:300], ""
    return InvitationStatus.SENT, "", receipt.id


@transaction.atomic
def _record_outcome(invitation: Invitation, status: str, error: str, notification_id: str, by: Membership) -> None:
    invitation.status, invitation.error, invitation.notification_id = status, error, notification_id
    if status == InvitationStatus.SENT:
        today = clock.today()
        invitation.sent_on = today
        if invitation.channel == Channel.LETTER:
            letters = Invitation.objects.filter(
                patient=invitation.patient,
                channel=Channel.LETTER,
                status=InvitationStatus.SENT,
                sent_on__gt=clock.months_before(today, 12),
            ).count()
            code = LETTER_CODES[min(letters, len(LETTER_CODES) - 1)]
        else:
            code = INVITATION_CODES[Channel(invitation.channel)]
        record_clinical_event(patient=invitation.patient, code=code, date=today, by=by)
    invitation.save(update_fields=["status", "sent_on", "error", "notification_id"])
    audit.record(
        by=by,
        action=AuditAction.CREATE,
        what="phc_invitation",
        patient=invitation.patient,
        detail={
            "invitation": invitation.pk,
            "channel": invitation.channel,
            "status": status,
            "batch": invitation.batch_id,
        },
    )


def _process(invitation_id: int, by: Membership, backend) -> None:
    """Claim, check, send and record one queued invitation. Claiming (queued → sending) is one
    conditional update, so two tabs or two clicks can never send the same invitation twice; access
    is checked again at sending time; any failure ends as `failed` with a reason, never as a
    stuck or silently dropped invitation."""
    if not Invitation.objects.filter(pk=invitation_id, status=InvitationStatus.QUEUED).update(
        status=InvitationStatus.SENDING
    ):
        return
    invitation = Invitation.objects.select_related("patient").get(pk=invitation_id)
    if not can_access_patient(by, invitation.patient, Permission.PATIENT_RECORD_CLINICAL):
        audit.record(
            by=by,
            action=AuditAction.DENIED,
            what="phc_invitation",
            patient=invitation.patient,
            detail={"invitation": invitation.pk},
        )
        Invitation.objects.filter(pk=invitation_id).update(
            status=InvitationStatus.FAILED, error="Not sent: you no longer have access to this patient's record."
        )
        return
    try:
        status, error, notification_id = _deliver(invitation, backend)
    except Exception:  # an outside service misbehaving must not strand the rest of the batch
        logger.exception("invitation %s: unexpected error while sending", invitation_id)
        status, error, notification_id = InvitationStatus.FAILED, "Sending failed unexpectedly; try again.", ""
    try:
        _record_outcome(invitation, status, error, notification_id, by)
    except Exception:
        logger.exception("invitation %s: could not record the outcome", invitation_id)
        Invitation.objects.filter(pk=invitation_id).update(
            status=InvitationStatus.FAILED,
            error="Sent, but the outcome could not be recorded: check with the patient."
            if status == "sent"
            else error or "Could not be recorded.",
        )


def invite(*, patient: Patient, channel: str, by: Membership, backend=None) -> Invitation:
    """Invite one patient now (send, or record a call or conversation)."""
    require_access(by, patient, Permission.PATIENT_RECORD_CLINICAL, what="phc_invitation")
    if channel not in Channel.values:
        raise InvalidInput(f"Unknown channel {channel!r}.")
    invitation = Invitation.objects.create(patient=patient, channel=channel, invited_by=by, created_at=clock.now())
    _process(invitation.pk, by, backend or notifications.get_backend())
    return Invitation.objects.get(pk=invitation.pk)


def start_invitation_batch(*, patient_ids: Iterable[int], channel: str, by: Membership) -> InvitationBatch:
    """Queue an invitation for each patient, to be sent in chunks by `continue_invitation_batch`,
    so nothing is lost if the page is left. All or nobody: if any patient is not the member's to
    act on, the refusal is audited (outside the transaction, so it stays) and nobody is queued."""
    if channel not in (Channel.SMS, Channel.LETTER):
        raise InvalidInput("Bulk invitations go by text message or letter.")
    ids = sorted(set(patient_ids))
    if not ids:
        raise InvalidInput("Choose at least one person to invite.")
    allowed = list(
        visible_patients(by, Permission.PATIENT_RECORD_CLINICAL).filter(pk__in=ids).values_list("pk", flat=True)
    )
    if len(allowed) != len(ids):
        audit.record(
            by=by,
            action=AuditAction.DENIED,
            what="phc_invitation_batch",
            detail={"refused_patient_ids": sorted(set(ids) - set(allowed))},
        )
        raise InvalidInput("Some of the people chosen are not yours to invite; nobody was invited.")
    return _queue_batch(patient_ids=allowed, channel=channel, by=by)


@transaction.atomic
def _queue_batch(*, patient_ids: list[int], channel: str, by: Membership) -> InvitationBatch:
    now = clock.now()
    batch = InvitationBatch.objects.create(channel=channel, created_by=by, created_at=now)
    Invitation.objects.bulk_create(
        Invitation(patient_id=pid, channel=channel, invited_by=by, batch=batch, created_at=now) for pid in patient_ids
    )
    audit.record(
        by=by,
        action=AuditAction.CREATE,
        what="phc_invitation_batch",
        detail={"batch": batch.pk, "channel": channel, "patient_ids": patient_ids},
    )
    return batch


@dataclass(frozen=True)
class BatchProgress:
    total: int
    sent: int
    failed: int
    queued: int

    @property
    def done(self) -> int:
        return self.sent + self.failed

    @property
    def finished(self) -> bool:
        # Nothing left to claim. (One being sent right now finishes on its own.)
        return self.queued == 0

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.done / self.total)


def batch_progress(batch: InvitationBatch) -> BatchProgress:
    counts = dict.fromkeys(InvitationStatus.values, 0)
    counts |= dict(batch.invitations.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return BatchProgress(
        total=sum(counts.values()), sent=counts["sent"], failed=counts["failed"], queued=counts["queued"]
    )


def continue_invitation_batch(
    *, batch: InvitationBatch, by: Membership, chunk: int = 20, backend=None
) -> BatchProgress:
    """Send the next `chunk` queued invitations of the batch, each committed on its own, so a
    failure or an interruption never loses or repeats one."""
    if batch.created_by_id != by.pk:
        raise InvalidInput("Only the person who started these invitations can continue them.")
    backend = backend or notifications.get_backend()
    for invitation_id in batch.invitations.filter(status=InvitationStatus.QUEUED).values_list("pk", flat=True)[:chunk]:
        _process(invitation_id, by, backend)
    return batch_progress(batch)


def record_invitation_response(*, invitation: Invitation, response: str, date: dt.date, by: Membership) -> Invitation:
    return _record_invitation_response(
        patient=invitation.patient, invitation=invitation, response=response, date=date, by=by
    )


@patient_action(Permission.PATIENT_RECORD_CLINICAL, what="phc_invitation_response")
def _record_invitation_response(
    *, patient: Patient, invitation: Invitation, response: str, date: dt.date, by: Membership
) -> Invitation:
    if response not in Response.values:
        raise InvalidInput("Unknown response.")
    if date > clock.today():
        raise InvalidInput("The date cannot be in the future.")
    invitation.response, invitation.responded_on = response, date
    invitation.save(update_fields=["response", "responded_on"])
    audit.record(
        by=by,
        action=AuditAction.UPDATE,
        what="phc_invitation_response",
        patient=invitation.patient,
        detail={"invitation": invitation.pk, "response": response},
    )
    return invitation
