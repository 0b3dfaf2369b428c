"""GOV.UK Notify, through its official client library (notifications-python-client)."""

import re
import uuid
from collections.abc import Callable
from typing import Any

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from concerto.notifications.base import (
    ADDRESS_LINE_PREFIX,
    MAX_ADDRESS_LINES,
    Channel,
    Message,
    NotificationError,
    Receipt,
)

DEFAULT_BASE_URL = "https://api.notifications.service.gov.uk"
# {key_name}-{service_id}-{secret}: the client takes the last 73 characters as two UUIDs.
_UUID = r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
_API_KEY = re.compile(rf"^.+-{_UUID}-{_UUID}$")


class NotifyBackend:
    def __init__(self, *, api_key: str, base_url: str = DEFAULT_BASE_URL, templates: dict[str, str]) -> None:
        # Checked here so a bad setting fails when the backend is built, not on the first send.
        if not _API_KEY.match(api_key):
            raise ValueError("the API key is not in Notify's format {key_name}-{service_id}-{secret}")
        for key, template_id in templates.items():
            try:
                uuid.UUID(template_id)
            except ValueError as exc:
                raise ValueError(f"the Notify template id for {key!r} is not a UUID") from exc
        self._api_key = api_key
        self._base_url = base_url
        self.templates = dict(templates)

    def send(self, message: Message) -> Receipt:
        template_id = self.templates.get(message.template)
        if template_id is None:
            raise NotificationError(f"No GOV.UK Notify template is configured for {message.template!r}")
        response = self._call(lambda client: _post(client, message, template_id))
        return Receipt(id=response["id"], channel=message.channel, reference=message.reference, status="created")

    def status(self, notification_id: str) -> str:
        """Notify's current status for a notification (created, sending, delivered, …)."""
        return self._call(lambda client: client.get_notification_by_id(notification_id))["status"]

    def _call(self, request: Callable[[NotificationsAPIClient], dict[str, Any]]) -> dict[str, Any]:
        # A client per call: the library's client is not thread-safe, and closing its session
        # afterwards leaves no pooled sockets behind. Recall volumes make the lost reuse cheap.
        client = NotificationsAPIClient(self._api_key, base_url=self._base_url)
        try:
            return request(client)
        except APIError as exc:
            raise NotificationError(_error_text(exc.message), status_code=exc.status_code) from exc
        finally:
            client.request_session.close()


def _post(client: NotificationsAPIClient, message: Message, template_id: str) -> dict[str, Any]:
    personalisation = dict(message.personalisation)
    reference = message.reference or None
    match message.channel:
        case Channel.SMS:
            return client.send_sms_notification(
                phone_number=message.to,
                template_id=template_id,
                personalisation=personalisation,
                reference=reference,
            )
        case Channel.EMAIL:
            return client.send_email_notification(
                email_address=message.to,
                template_id=template_id,
                personalisation=personalisation,
                reference=reference,
            )
        case Channel.LETTER:
            if len(message.to) > MAX_ADDRESS_LINES:
                # Notify would silently drop an eighth line, so refuse rather than misaddress.
                raise NotificationError(f"A letter address can have at most {MAX_ADDRESS_LINES} lines")
            for number, line in enumerate(message.to, start=1):
                personalisation[f"{ADDRESS_LINE_PREFIX}{number}"] = line
            return client.send_letter_notification(
                template_id=template_id, personalisation=personalisation, reference=reference
            )
    raise AssertionError(f"unknown channel {message.channel!r}")  # pragma: no cover


def _error_text(message: str | list[dict[str, Any]]) -> str:
    # Notify answers {"status_code": …, "errors": [{"error": …, "message": …}, …]}; the client
    # hands us the list (or a plain string when there was no JSON, e.g. a connection failure).
    if isinstance(message, str):
        return f"GOV.UK Notify: {message}"
    return "GOV.UK Notify: " + "; ".join(str(error.get("message", error)) for error in message)
