"""Notifications: the console backend, choosing a backend, and the GOV.UK Notify contract.

The contract tests run the real NotifyBackend (the official client library, real HTTP) against
the fake in tests/fakes/notify.py and, when NOTIFY_TEST_API_KEY and the NOTIFY_TEST_TEMPLATE_*
ids are set, against the real GOV.UK Notify with the same assertions. Use a Notify *test* key:
nothing is delivered. The three templates (sms, email, letter) must each have one placeholder,
((name)).
"""

import io
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from concerto.notifications import (
    Channel,
    Message,
    NotificationError,
    Receipt,
    get_backend,
    override_backend,
)
from concerto.notifications.console import ConsoleBackend
from concerto.notifications.notify import DEFAULT_BASE_URL, NotifyBackend
from tests.fakes.notify import CLOCK_ERROR_MESSAGE, KEY_NOT_FOUND_MESSAGE, FakeNotify

CONTRACT_BODY = "Dear ((name)), you are invited to your annual physical health check."
# Notify's simulated recipients: accepted, never delivered (and free) even on a live key.
MOBILE = "07700 900111"
EMAIL = "simulate-delivered@notifications.service.gov.uk"
ADDRESS = ("Ms A Example", "1 Example Street", "Leeds", "LS1 4AP")
NOTIFY_STATUSES = {"created", "sending", "pending", "delivered", "accepted", "received"}


@dataclass
class NotifyService:
    """The service under contract: the fake, or the real GOV.UK Notify."""

    name: str
    api_key: str
    base_url: str
    templates: dict[str, str]  # our keys sms, email, letter → template ids
    fake: FakeNotify | None

    def backend(self, *, api_key: str | None = None, templates: dict[str, str] | None = None) -> NotifyBackend:
        return NotifyBackend(
            api_key=api_key or self.api_key,
            base_url=self.base_url,
            templates=self.templates if templates is None else templates,
        )

    @property
    def service_id(self) -> str:
        return self.api_key[-73:-37]


@pytest.fixture(params=["fake", "real"])
def notify(request: pytest.FixtureRequest) -> Iterator[NotifyService]:
    if request.param == "fake":
        with FakeNotify() as fake:
            templates = {
                "sms": fake.add_template("sms", CONTRACT_BODY),
                "email": fake.add_template("email", CONTRACT_BODY, subject="Your health check"),
                "letter": fake.add_template("letter", CONTRACT_BODY, subject="Your health check"),
            }
            yield NotifyService("fake", fake.api_key, fake.base_url, templates, fake)
        return
    api_key = os.environ.get("NOTIFY_TEST_API_KEY", "")
    templates = {kind: os.environ.get(f"NOTIFY_TEST_TEMPLATE_{kind.upper()}", "") for kind in Channel}
    if not api_key or not all(templates.values()):
        pytest.skip(
            "the real GOV.UK Notify: set NOTIFY_TEST_API_KEY (a test key) and NOTIFY_TEST_TEMPLATE_SMS, "
            "_EMAIL and _LETTER (each with the placeholder ((name))) to check the fake against it"
        )
    base_url = os.environ.get("NOTIFY_TEST_BASE_URL", DEFAULT_BASE_URL)
    yield NotifyService("real", api_key, base_url, templates, None)


def send_error(backend: NotifyBackend, message: Message) -> NotificationError:
    with pytest.raises(NotificationError) as caught:
        backend.send(message)
    return caught.value


def sms(to: str = MOBILE, **personalisation: str) -> Message:
    return Message(Channel.SMS, to, "sms", personalisation or {"name": "Ann"}, reference="recall-1")


def letter(to: tuple[str, ...] = ADDRESS) -> Message:
    return Message(Channel.LETTER, to, "letter", {"name": "Ann"}, reference="recall-3")


# --- the contract: the fake and the real service answer alike -----------------------------------


def test_sms_is_accepted(notify: NotifyService) -> None:
    backend = notify.backend()

    receipt = backend.send(sms())

    assert receipt.channel == Channel.SMS and receipt.reference == "recall-1"
    assert receipt.status == "created" and uuid.UUID(receipt.id)
    assert backend.status(receipt.id) in NOTIFY_STATUSES
    if notify.fake:
        sent = notify.fake.sent[-1]
        assert sent.payload == {
            "phone_number": MOBILE,
            "template_id": notify.templates["sms"],
            "personalisation": {"name": "Ann"},
            "reference": "recall-1",
        }
        assert sent.body == "Dear Ann, you are invited to your annual physical health check."


def test_email_is_accepted(notify: NotifyService) -> None:
    backend = notify.backend()

    receipt = backend.send(Message(Channel.EMAIL, EMAIL, "email", {"name": "Ann"}, reference="recall-2"))

    assert receipt.channel == Channel.EMAIL and uuid.UUID(receipt.id)
    assert backend.status(receipt.id) in NOTIFY_STATUSES
    if notify.fake:
        assert notify.fake.sent[-1].payload == {
            "email_address": EMAIL,
            "template_id": notify.templates["email"],
            "personalisation": {"name": "Ann"},
            "reference": "recall-2",
        }


def test_letter_is_accepted_with_the_address_as_address_lines(notify: NotifyService) -> None:
    backend = notify.backend()

    receipt = backend.send(letter())

    assert receipt.channel == Channel.LETTER and uuid.UUID(receipt.id)
    assert backend.status(receipt.id) in NOTIFY_STATUSES
    if notify.fake:
        sent = notify.fake.sent[-1]
        assert sent.payload == {
            "template_id": notify.templates["letter"],
            "personalisation": {
                "name": "Ann",
                "address_line_1": "Ms A Example",
                "address_line_2": "1 Example Street",
                "address_line_3": "Leeds",
                "address_line_4": "LS1 4AP",
            },
            "reference": "recall-3",
        }
        assert sent.recipient == ADDRESS


def test_a_short_phone_number_is_refused(notify: NotifyService) -> None:
    error = send_error(notify.backend(), sms(to="07700 9001"))

    assert error.status_code == 400
    assert error.message == "GOV.UK Notify: phone_number Not enough digits"


def test_a_malformed_email_address_is_refused(notify: NotifyService) -> None:
    message = Message(Channel.EMAIL, "not-an-email", "email", {"name": "Ann"}, reference="recall-2")

    error = send_error(notify.backend(), message)

    assert error.status_code == 400
    assert error.message == "GOV.UK Notify: email_address Not a valid email address"


def test_a_letter_without_a_postcode_is_refused(notify: NotifyService) -> None:
    error = send_error(notify.backend(), letter(to=ADDRESS[:3]))

    assert error.status_code == 400
    # A service allowed to post abroad is told "…a real UK postcode or another country".
    assert "real UK postcode" in error.message


def test_a_letter_needs_three_address_lines(notify: NotifyService) -> None:
    error = send_error(notify.backend(), letter(to=("Ms A Example", "LS1 4AP")))

    assert error.status_code == 400
    assert error.message == "GOV.UK Notify: Address must be at least 3 lines"


def test_a_template_unknown_to_notify_is_refused(notify: NotifyService) -> None:
    backend = notify.backend(templates={"sms": str(uuid.uuid4())})

    error = send_error(backend, sms())

    assert error.status_code == 400
    assert error.message == "GOV.UK Notify: Template not found"


def test_a_template_of_another_kind_is_refused(notify: NotifyService) -> None:
    backend = notify.backend(templates={"email": notify.templates["sms"]})
    message = Message(Channel.EMAIL, EMAIL, "email", {"name": "Ann"}, reference="recall-2")

    error = send_error(backend, message)

    assert error.message == "GOV.UK Notify: sms template is not suitable for email notification"


def test_missing_personalisation_is_refused(notify: NotifyService) -> None:
    error = send_error(notify.backend(), sms(first_name="Ann"))

    assert error.status_code == 400
    assert error.message == "GOV.UK Notify: Missing personalisation: name"


def test_a_wrong_api_key_is_refused(notify: NotifyService) -> None:
    wrong_key = f"concerto_wrong-{notify.service_id}-{uuid.uuid4()}"

    error = send_error(notify.backend(api_key=wrong_key), sms())

    assert error.status_code == 403
    assert error.message == f"GOV.UK Notify: {KEY_NOT_FOUND_MESSAGE}"


def test_an_unknown_notification_has_no_status(notify: NotifyService) -> None:
    with pytest.raises(NotificationError) as caught:
        notify.backend().status(str(uuid.uuid4()))

    assert caught.value.status_code == 404
    assert caught.value.message == "GOV.UK Notify: No result found"


def raw_post(notify: NotifyService, headers: dict[str, str]) -> requests.Response:
    payload: dict[str, Any] = {
        "phone_number": MOBILE,
        "template_id": notify.templates["sms"],
        "personalisation": {"name": "A"},
    }
    with requests.Session() as session:
        return session.post(f"{notify.base_url}/v2/notifications/sms", json=payload, headers=headers, timeout=30)


def test_a_token_from_a_wrong_clock_is_refused(notify: NotifyService) -> None:
    secret = notify.api_key[-36:]
    token = jwt.encode({"iss": notify.service_id, "iat": int(time.time()) - 120}, secret, algorithm="HS256")

    response = raw_post(notify, {"Authorization": f"Bearer {token}"})

    assert response.status_code == 403
    assert response.json() == {
        "status_code": 403,
        "errors": [{"error": "AuthError", "message": CLOCK_ERROR_MESSAGE}],
    }


def test_a_request_without_a_token_is_refused(notify: NotifyService) -> None:
    response = raw_post(notify, {})

    assert response.status_code == 401
    assert response.json()["errors"] == [
        {"error": "AuthError", "message": "Unauthorized: authentication token must be provided"}
    ]


# --- our side of the Notify backend --------------------------------------------------------------


def test_an_unconfigured_template_key_fails_before_calling_notify(fake_notify: FakeNotify) -> None:
    backend = NotifyBackend(api_key=fake_notify.api_key, base_url=fake_notify.base_url, templates={})

    error = send_error(backend, sms())

    assert error.message == "No GOV.UK Notify template is configured for 'sms'"
    assert fake_notify.sent == []


def test_an_address_longer_than_notify_reads_is_refused_here(fake_notify: FakeNotify) -> None:
    template = fake_notify.add_template("letter", CONTRACT_BODY)
    backend = NotifyBackend(api_key=fake_notify.api_key, base_url=fake_notify.base_url, templates={"letter": template})

    error = send_error(backend, letter(to=("line",) * 7 + ("LS1 4AP",)))

    assert "at most 7 lines" in error.message
    assert fake_notify.sent == []


def test_an_unreachable_notify_is_a_notification_error() -> None:
    with FakeNotify() as fake:
        api_key, base_url = fake.api_key, fake.base_url  # the port is free again once it stops
    backend = NotifyBackend(api_key=api_key, base_url=base_url, templates={"sms": str(uuid.uuid4())})

    error = send_error(backend, sms())

    assert error.message == "GOV.UK Notify: Request failed"


def test_the_fake_refuses_synthetic_postcodes_as_notify_does(fake_notify: FakeNotify) -> None:
    # The synthetic population lives in "DM", which is not a postcode area: Notify refuses it.
    template = fake_notify.add_template("letter", CONTRACT_BODY)
    backend = NotifyBackend(api_key=fake_notify.api_key, base_url=fake_notify.base_url, templates={"letter": template})

    error = send_error(backend, letter(to=("Ms A Example", "1 Example Street", "Demotown", "DM1 1AA")))

    assert error.message == "GOV.UK Notify: Must be a real UK postcode"


@pytest.mark.parametrize("number", ["07700900123", "07700 900123", "+447700900123", "+44 (0)7700 900123"])
def test_the_fake_accepts_uk_mobiles_in_their_usual_forms(fake_notify: FakeNotify, number: str) -> None:
    template = fake_notify.add_template("sms", CONTRACT_BODY)
    backend = NotifyBackend(api_key=fake_notify.api_key, base_url=fake_notify.base_url, templates={"sms": template})

    backend.send(sms(to=number))

    assert fake_notify.sent[-1].recipient == number


# --- the console backend ------------------------------------------------------------------------


def test_the_console_backend_prints_and_keeps_what_it_sends() -> None:
    stream = io.StringIO()
    backend = ConsoleBackend(stream=stream)
    message = letter()

    receipt = backend.send(message)

    assert backend.outbox == [message]
    assert receipt == Receipt(id=receipt.id, channel=Channel.LETTER, reference="recall-3", status="delivered")
    assert uuid.UUID(receipt.id)
    printed = stream.getvalue()
    assert "letter · template letter · reference recall-3" in printed
    assert "To: Ms A Example\n    1 Example Street\n    Leeds\n    LS1 4AP\n" in printed
    assert "name: Ann" in printed


def test_the_console_backend_writes_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleBackend().send(sms())

    assert "To: 07700 900111" in capsys.readouterr().out


def test_a_message_is_addressed_for_its_channel() -> None:
    with pytest.raises(TypeError):
        Message(Channel.LETTER, "1 Example Street", "letter", {}, reference="r")
    with pytest.raises(TypeError):
        Message(Channel.SMS, (MOBILE,), "sms", {}, reference="r")
    with pytest.raises(ValueError, match="address"):
        Message(Channel.LETTER, ADDRESS, "letter", {"address_line_1": "x"}, reference="r")


# --- choosing the backend -----------------------------------------------------------------------


def test_console_is_the_default_backend(settings) -> None:
    del settings.NOTIFICATIONS_BACKEND

    assert isinstance(get_backend(), ConsoleBackend)


def test_notify_without_an_api_key_is_refused(settings) -> None:
    settings.NOTIFICATIONS_BACKEND = "notify"
    settings.NOTIFY_API_KEY = ""

    with pytest.raises(ImproperlyConfigured, match="NOTIFY_API_KEY is not set"):
        get_backend()


def test_notify_is_built_from_settings(settings) -> None:
    settings.NOTIFICATIONS_BACKEND = "notify"
    settings.NOTIFY_API_KEY = f"concerto_test-{uuid.uuid4()}-{uuid.uuid4()}"
    settings.NOTIFY_TEMPLATES = {"phc_invitation": str(uuid.uuid4())}

    backend = get_backend()

    assert isinstance(backend, NotifyBackend)
    assert backend.templates == settings.NOTIFY_TEMPLATES


@pytest.mark.parametrize(
    ("setting", "value", "complaint"),
    [
        ("NOTIFY_API_KEY", "not-a-notify-key", "not in Notify's format"),
        ("NOTIFY_TEMPLATES", {"phc_invitation": "not-a-uuid"}, "'phc_invitation' is not a UUID"),
        ("NOTIFICATIONS_BACKEND", "carrier-pigeon", "must be 'console' or 'notify'"),
    ],
)
def test_bad_notification_settings_are_refused(settings, setting: str, value: object, complaint: str) -> None:
    settings.NOTIFICATIONS_BACKEND = "notify"
    settings.NOTIFY_API_KEY = f"concerto_test-{uuid.uuid4()}-{uuid.uuid4()}"
    setattr(settings, setting, value)

    with pytest.raises(ImproperlyConfigured, match=complaint):
        get_backend()


def test_a_backend_can_be_swapped_in() -> None:
    console = ConsoleBackend(stream=io.StringIO())

    with override_backend(console):
        assert get_backend() is console
    assert get_backend() is not console
