"""Portal sign-in. Asking for a link answers the same whether or not the details match a patient
(no way to learn who is registered), and the link goes only to contact details already on record."""

import datetime as dt
import hashlib
import logging
import secrets
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import transaction

from concerto import notifications
from concerto.access import audit
from concerto.access.models import AuditAction
from concerto.core import clock
from concerto.people.models import Patient
from concerto.portal.models import SignInLink

logger = logging.getLogger(__name__)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(patient: Patient, *, sent_by: str) -> str:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    SignInLink.objects.create(
        patient=patient,
        token_hash=_hash(token),
        created_at=now,
        expires_at=now + dt.timedelta(minutes=settings.PORTAL_LINK_MINUTES),
        sent_by=sent_by,
    )
    audit.record_by_patient(
        patient=patient, action=AuditAction.CREATE, what="portal_sign_in_link", detail={"sent_by": sent_by}
    )
    return token


@transaction.atomic
def request_sign_in_link(*, nhs_number: str, date_of_birth: dt.date, link_for) -> bool:
    """Text a one-time sign-in link to the mobile number on record, if the NHS number and date of
    birth match a living patient with one and they have not asked too often. `link_for(token)` makes
    the absolute URL. Returns whether a link was sent; callers must not tell the person."""
    # Locked, so simultaneous requests cannot each pass the limit.
    patient = (
        Patient.objects.select_for_update()
        .filter(nhs_number=nhs_number, date_of_birth=date_of_birth, date_of_death__isnull=True)
        .first()
    )
    if patient is None or not patient.mobile_phone:
        return False
    now = clock.now()
    sent = SignInLink.objects.filter(patient=patient, sent_by="sms")
    if (
        sent.filter(created_at__gte=now - dt.timedelta(hours=1)).count() >= settings.PORTAL_LINKS_PER_HOUR
        or sent.filter(created_at__gte=now - dt.timedelta(days=1)).count() >= settings.PORTAL_LINKS_PER_DAY
    ):
        return False
    token = _issue(patient, sent_by="sms")
    message = notifications.Message(
        channel=notifications.Channel.SMS,
        to=patient.mobile_phone,
        template="portal_sign_in",
        personalisation={"link": link_for(token), "minutes": str(settings.PORTAL_LINK_MINUTES)},
        reference="portal-sign-in",
    )
    # Sent after commit (a link must never arrive for a token that was rolled back) and off the
    # request, so the answer takes as long whether or not the details matched someone.
    backend = notifications.get_backend()
    transaction.on_commit(lambda: _pending.append(_sender.submit(_send, backend, message)))
    return True


# One background sender: messages go out in order, and the web request never waits for Notify.
_sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portal-sms")
_pending: list[Future] = []


def _send(backend, message: notifications.Message) -> None:
    try:
        backend.send(message)
    except notifications.NotificationError as exc:
        logger.warning("portal sign-in link not sent: %s", exc.message)
    except Exception:  # a background thread has nobody to raise to: log it, never lose it silently
        logger.exception("portal sign-in link not sent")


def wait_for_messages(timeout: float = 10) -> None:
    """Block until queued sign-in messages have gone (tests, and a clean shutdown)."""
    while _pending:
        _pending.pop(0).result(timeout=timeout)


@transaction.atomic
def issue_sign_in_link(*, patient: Patient) -> str:
    """A link handed over in person (a clinic, the demo): the caller shows it to the patient."""
    return _issue(patient, sent_by="issued")


@transaction.atomic
def sign_in_with_link(*, token: str) -> Patient | None:
    """Use a link: the patient it was for, or None if it is unknown, used or expired. Exactly one of
    two simultaneous uses of the same link succeeds."""
    now = clock.now()
    link = SignInLink.objects.select_related("patient").filter(token_hash=_hash(token)).first()
    if link is None or link.patient.date_of_death is not None:
        return None
    used = SignInLink.objects.filter(pk=link.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
    if used != 1:
        return None
    audit.record_by_patient(patient=link.patient, action=AuditAction.VIEW, what="portal_sign_in")
    return link.patient


def link_is_usable(token: str) -> bool:
    return SignInLink.objects.filter(token_hash=_hash(token), used_at__isnull=True, expires_at__gt=clock.now()).exists()
