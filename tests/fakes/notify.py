"""A fake GOV.UK Notify (API v2) on a real HTTP server, for tests that must not reach the internet.

It answers like Notify does, in the order Notify checks: authorisation (the same JWT checks, using
the same notifications-python-client functions Notify's API uses), then the request schema
(ValidationError, every problem listed), then the template (BadRequestError: not found, wrong type,
missing personalisation), then the recipient (a letter's address; an SMS number's country).
Messages are Notify's own wording, taken from notifications-api and notifications-utils.

Deliberate simplifications, each on the side of refusing: it has one service with one API key
(a test key: everything is accepted and reported as delivered); it cannot send to UK landlines or
international numbers, or letters abroad (services need Notify's permission for those); it has no
rate limits, scheduling, files by email or precompiled letters.

The contract tests in tests/integration/test_notifications.py run against this fake and, given
NOTIFY_TEST_API_KEY, against the real Notify: that keeps the fake honest.
"""

import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import jwt
from notifications_python_client.authentication import decode_jwt_token, get_token_issuer
from notifications_python_client.errors import (
    TokenAlgorithmError,
    TokenDecodeError,
    TokenError,
    TokenExpiredError,
    TokenIssuerError,
)

# notifications-api app/authentication/auth.py
GENERAL_TOKEN_ERROR_MESSAGE = (
    "Invalid token: make sure your API token matches the example at "
    "https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header"
)
CLOCK_ERROR_MESSAGE = "Error: Your system clock must be accurate to within 30 seconds"
KEY_NOT_FOUND_MESSAGE = "Invalid token: API key not found"

# notifications-utils countries/_data/uk-postcode-zones.txt: postcode areas that exist.
UK_POSTCODE_ZONES = (
    "AB|AL|B|BA|BB|BD|BF|BH|BL|BN|BR|BS|BT|BX|CA|CB|CF|CH|CM|CO|CR|CT|CV|CW|DA|DD|DE|DG|DH|DL|DN|DT|DY|"
    "E|EC|EH|EN|EX|FK|FY|G|GL|GU|GY|HA|HD|HG|HP|HR|HS|HU|HX|IG|IM|IP|IV|JE|KA|KT|KW|KY|L|GIR|LA|LD|LE|"
    "LL|LN|LS|LU|M|ME|MK|ML|N|NE|NG|NN|NP|NR|NW|OL|OX|PA|PE|PH|PL|PO|PR|RG|RH|RM|S|SA|SE|SG|SK|SL|SM|"
    "SN|SO|SP|SR|SS|ST|SW|SY|TA|TD|TF|TN|TQ|TR|TS|TW|UB|W|WA|WC|WD|WF|WN|WR|WS|WV|YO|ZE"
)
_POSTCODE = re.compile(rf"(({UK_POSTCODE_ZONES})[0-9][0-9A-Z]?[0-9][A-BD-HJLNP-UW-Z]{{2}})")
_INVALID_ADDRESS_START = tuple('@()=[]"\\/,<>~')
ADDRESS_KEYS = [f"address_line_{n}" for n in range(1, 8)]

# notifications-utils recipient_validation/email_address.py
_EMAIL = re.compile(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~\-]+@([^.@][^@\s]+)$")
_HOSTNAME_PART = re.compile(r"^(xn|[a-z0-9]+)(-?-[a-z0-9]+)*$", re.IGNORECASE)
_TLD_PART = re.compile(r"^([a-z]{2,63}|xn--([a-z0-9]+-)*[a-z0-9]+)$", re.IGNORECASE)

_PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")

ALLOWED_FIELDS = {
    "sms": {"phone_number", "template_id", "personalisation", "reference", "sms_sender_id", "scheduled_for"},
    "email": {
        "email_address",
        "template_id",
        "personalisation",
        "reference",
        "email_reply_to_id",
        "scheduled_for",
        "one_click_unsubscribe_url",
    },
    "letter": {"template_id", "personalisation", "reference", "scheduled_for"},
}
RECIPIENT_FIELD = {"sms": "phone_number", "email": "email_address"}


@dataclass(frozen=True)
class FakeTemplate:
    id: str
    type: str  # sms, email or letter
    body: str
    subject: str = ""
    version: int = 1

    @property
    def placeholders(self) -> list[str]:
        names: dict[str, str] = {}
        for raw in _PLACEHOLDER.findall(f"{self.subject} {self.body}"):
            name = raw.split("??")[0].strip()  # ((name??text)) is a conditional on `name`
            names.setdefault(_key(name), name)
        return list(names.values())

    def render(self, personalisation: dict[str, Any]) -> tuple[str, str]:
        values = {_key(k): v for k, v in personalisation.items()}

        def value(match: re.Match[str]) -> str:
            return str(values.get(_key(match.group(1).split("??")[0]), match.group(0)))

        def fill(text: str) -> str:
            return _PLACEHOLDER.sub(value, text)

        return fill(self.subject), fill(self.body)


@dataclass
class SentNotification:
    id: str
    type: str
    template: FakeTemplate
    payload: dict[str, Any]  # exactly what the client posted
    recipient: str | tuple[str, ...]
    subject: str
    body: str
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "delivered"  # a test key's notifications are all "delivered"


class NotifyRefusal(Exception):
    def __init__(self, status_code: int, error: str, messages: list[str]) -> None:
        super().__init__(messages)
        self.status_code = status_code
        self.body = {"status_code": status_code, "errors": [{"error": error, "message": m} for m in messages]}


class FakeNotify:
    """One Notify service. Start it with `with FakeNotify() as notify:`; use `notify.api_key`,
    `notify.base_url` and `notify.add_template(...)`; inspect `notify.sent`."""

    def __init__(self, *, key_name: str = "concerto_test") -> None:
        self.service_id = str(uuid.uuid4())
        self.secret = str(uuid.uuid4())
        self.api_key = f"{key_name}-{self.service_id}-{self.secret}"
        self.templates: dict[str, FakeTemplate] = {}
        self.sent: list[SentNotification] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def add_template(self, type: str, body: str, *, subject: str = "") -> str:
        template = FakeTemplate(id=str(uuid.uuid4()), type=type, body=body, subject=subject)
        self.templates[template.id] = template
        return template.id

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._server.server_close()  # joins any request thread still finishing
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- what Notify does with a request ------------------------------------------------------

    def authorise(self, header: str | None) -> None:
        # notifications-api app/authentication/auth.py, requires_auth(), for our one API key.
        if not header:
            raise NotifyRefusal(401, "AuthError", ["Unauthorized: authentication token must be provided"])
        if header[:7].title() != "Bearer ":
            raise NotifyRefusal(401, "AuthError", ["Unauthorized: authentication bearer scheme must be used"])
        token = header[7:]
        try:
            issuer = get_token_issuer(token)
        except TokenIssuerError:
            raise NotifyRefusal(403, "AuthError", ["Invalid token: iss field not provided"]) from None
        except (TokenDecodeError, jwt.PyJWTError):
            raise NotifyRefusal(403, "AuthError", [GENERAL_TOKEN_ERROR_MESSAGE]) from None
        try:
            uuid.UUID(issuer)
        except (ValueError, TypeError, AttributeError):
            raise NotifyRefusal(403, "AuthError", ["Invalid token: service id is not the right data type"]) from None
        if issuer != self.service_id:
            raise NotifyRefusal(403, "AuthError", ["Invalid token: service not found"])
        try:
            decode_jwt_token(token, self.secret)
        except TokenExpiredError:
            raise NotifyRefusal(403, "AuthError", [CLOCK_ERROR_MESSAGE]) from None
        except TokenAlgorithmError:
            raise NotifyRefusal(403, "AuthError", ["Invalid token: algorithm used is not HS256"]) from None
        except TokenDecodeError:  # not signed with this key (Notify would try its other keys)
            raise NotifyRefusal(403, "AuthError", [KEY_NOT_FOUND_MESSAGE]) from None
        except TokenError:
            raise NotifyRefusal(403, "AuthError", [GENERAL_TOKEN_ERROR_MESSAGE]) from None

    def post_notification(self, notification_type: str, raw_body: bytes) -> dict[str, Any]:
        try:
            payload = json.loads(raw_body or b"{}") or {}
        except ValueError:
            raise NotifyRefusal(400, "BadRequestError", ["Invalid JSON supplied in POST data"]) from None
        if not isinstance(payload, dict):
            raise NotifyRefusal(400, "ValidationError", [f"{payload!r} is not of type object"])
        errors = _schema_errors(notification_type, payload)
        if errors:
            raise NotifyRefusal(400, "ValidationError", errors)

        personalisation = payload.get("personalisation") or {}
        template = self.templates.get(payload["template_id"])
        if template is None:
            raise NotifyRefusal(400, "BadRequestError", ["Template not found"])
        if template.type != notification_type:
            raise NotifyRefusal(
                400,
                "BadRequestError",
                [f"{template.type} template is not suitable for {notification_type} notification"],
            )
        given = {_key(k) for k, v in personalisation.items() if v is not None}
        missing = [name for name in template.placeholders if _key(name) not in given]
        if missing:
            raise NotifyRefusal(400, "BadRequestError", [f"Missing personalisation: {', '.join(missing)}"])

        recipient: str | tuple[str, ...]
        if notification_type == "letter":
            recipient = _validated_address(personalisation)
        elif notification_type == "sms":
            if not _is_uk_phone_number(payload["phone_number"]):
                raise NotifyRefusal(400, "BadRequestError", ["Cannot send to international mobile numbers"])
            recipient = payload["phone_number"]
        else:
            recipient = payload["email_address"]

        subject, body = template.render(personalisation)
        sent = SentNotification(
            id=str(uuid.uuid4()),
            type=notification_type,
            template=template,
            payload=payload,
            recipient=recipient,
            subject=subject,
            body=body,
        )
        with self._lock:
            self.sent.append(sent)
        return self._created_response(sent)

    def get_notification(self, notification_id: str) -> dict[str, Any]:
        try:
            uuid.UUID(notification_id)
        except ValueError:
            raise NotifyRefusal(400, "ValidationError", ["notification_id is not a valid UUID"]) from None
        with self._lock:
            found = [n for n in self.sent if n.id == notification_id]
        if not found:
            raise NotifyRefusal(404, "NoResultFound", ["No result found"])
        n = found[0]
        lines = list(n.recipient) if n.type == "letter" else []
        return {
            "id": n.id,
            "reference": n.payload.get("reference"),
            "email_address": n.recipient if n.type == "email" else None,
            "phone_number": n.recipient if n.type == "sms" else None,
            **{f"line_{i}": (lines[i - 1] if i <= len(lines) else None) for i in range(1, 8)},
            "postage": "second" if n.type == "letter" else None,
            "type": n.type,
            "status": n.status,
            "template": {"id": n.template.id, "version": n.template.version, "uri": self._template_uri(n)},
            "body": n.body,
            "subject": n.subject if n.type != "sms" else None,
            "created_at": n.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "created_by_name": None,
            "sent_at": n.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "completed_at": n.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "scheduled_for": None,
            "one_click_unsubscribe": None,
            "is_cost_data_ready": True,
            "cost_in_pounds": 0.0,
            "cost_details": {},
        }

    def _created_response(self, n: SentNotification) -> dict[str, Any]:
        content: dict[str, Any] = {"body": n.body}
        if n.type == "sms":
            content["from_number"] = "GOVUK"
        else:
            content["subject"] = n.subject
        if n.type == "email":
            content["from_email"] = "concerto.test@notifications.service.gov.uk"
            content["one_click_unsubscribe_url"] = None
        response = {
            "id": n.id,
            "reference": n.payload.get("reference"),
            "content": content,
            "uri": f"{self.base_url}/v2/notifications/{n.id}",
            "template": {"id": n.template.id, "version": n.template.version, "uri": self._template_uri(n)},
            "scheduled_for": None,
        }
        if n.type == "letter":
            response["postage"] = "second"
        return response

    def _template_uri(self, n: SentNotification) -> str:
        return f"{self.base_url}/v2/template/{n.template.id}"


# --- validation, in Notify's words ---------------------------------------------------------------


def _key(name: str) -> str:
    # notifications-utils InsensitiveDict: placeholders match ignoring case, spaces, _ and -.
    return re.sub(r"[\s_-]", "", name).lower()


def _schema_errors(notification_type: str, payload: dict[str, Any]) -> list[str]:
    """The jsonschema checks of notifications-api app/v2/notifications/notification_schemas.py,
    reported as Notify's build_error_message does ("<field> <problem>")."""
    errors = []
    required = ["template_id"]
    if notification_type in RECIPIENT_FIELD:
        required.insert(0, RECIPIENT_FIELD[notification_type])
    else:
        required.append("personalisation")
    for name in required:
        if name not in payload:
            errors.append(f"{name} is a required property")
    unexpected = sorted(set(payload) - ALLOWED_FIELDS[notification_type])
    if unexpected:
        were = "was" if len(unexpected) == 1 else "were"
        names = ", ".join(map(repr, unexpected))
        errors.append(f"Additional properties are not allowed ({names} {were} unexpected)")
    for name in ("template_id", "phone_number", "email_address", "reference"):
        if name in payload and not isinstance(payload[name], str):
            errors.append(f"{name} {payload[name]!r} is not of type string")
    if isinstance(payload.get("template_id"), str):
        try:
            uuid.UUID(payload["template_id"])
        except ValueError:
            errors.append("template_id is not a valid UUID")
    if notification_type == "sms" and isinstance(payload.get("phone_number"), str):
        problem = _uk_mobile_problem(payload["phone_number"])
        if problem:
            errors.append(f"phone_number {problem}")
    email_address = payload.get("email_address")
    if notification_type == "email" and isinstance(email_address, str) and not _is_email_address(email_address):
        errors.append("email_address Not a valid email address")
    personalisation = payload.get("personalisation")
    if personalisation is not None and not isinstance(personalisation, dict):
        errors.append(f"personalisation {personalisation!r} is not of type object")
    elif notification_type == "letter" and personalisation is not None and "address_line_1" not in personalisation:
        errors.append("personalisation address_line_1 is a required property")
    return errors


def _normalise_phone_number(number: str) -> str:
    for character in " \t\n\r\x0b\x0c()-+":
        number = number.replace(character, "")
    return number


def _is_uk_phone_number(number: str) -> bool:
    # notifications-utils recipient_validation/phone_number.py, is_uk_phone_number()
    if number.startswith("0") and not number.startswith("00"):
        return True
    number = _normalise_phone_number(number)
    return number.startswith("44") or (number.startswith("7") and len(number) < 11)


def _uk_mobile_problem(number: str) -> str | None:
    """Notify's legacy v2 messages for a number that is not a valid UK mobile; None if it is one
    (or is international, which Notify refuses later for a service without that permission)."""
    digits = _normalise_phone_number(number)
    if not digits.isdigit():
        return "Must not contain letters or symbols"
    if not _is_uk_phone_number(number):
        return None
    national = digits.removeprefix("44").lstrip("0")
    if not national.startswith("7"):
        return "Not a UK mobile number"
    if len(national) > 10:
        return "Too many digits"
    if len(national) < 10:
        return "Not enough digits"
    return None


def _is_email_address(address: str) -> bool:
    address = address.strip()
    match = _EMAIL.match(address)
    if not match or len(address) > 320 or ".." in address:
        return False
    hostname = match.group(1)
    parts = hostname.split(".")
    if len(hostname) > 253 or len(parts) < 2:
        return False
    if not all(part and len(part) <= 63 and _HOSTNAME_PART.match(part) for part in parts):
        return False
    return bool(_TLD_PART.match(parts[-1]))


def _validated_address(personalisation: dict[str, Any]) -> tuple[str, ...]:
    # notifications-api app/notifications/validators.py validate_address(), with
    # notifications-utils PostalAddress, for a service that may not send letters abroad.
    # Lines 1-7, or lines 1-6 and the older "postcode" key; a value holding newlines is several lines.
    keys = ADDRESS_KEYS if "address_line_7" in personalisation else [*ADDRESS_KEYS[:6], "postcode"]
    raw = "\n".join(str(personalisation.get(key) or "") for key in keys)
    lines = [re.sub(r"\s+", " ", line).strip().rstrip(" ,") for line in raw.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) < 3:
        raise NotifyRefusal(400, "ValidationError", ["Address must be at least 3 lines"])
    postcode = re.sub(r"\s+", "", lines[-1]).upper()
    if not _POSTCODE.fullmatch(postcode):
        raise NotifyRefusal(400, "ValidationError", ["Must be a real UK postcode"])
    if any(line.startswith(_INVALID_ADDRESS_START) for line in lines):
        raise NotifyRefusal(
            400,
            "ValidationError",
            ["Address lines must not start with any of the following characters: @ ( ) = [ ] ” \\ / , < >"],
        )
    if any(line.lower() == "nfa" for line in lines) or re.search(
        r"no fixed (abode|address)", "\n".join(lines), re.IGNORECASE
    ):
        raise NotifyRefusal(400, "ValidationError", ["Must be a real address"])
    return (*lines[:-1], f"{postcode[:-3]} {postcode[-3:]}")


# --- HTTP ----------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    # Request threads are joined on close (no daemon threads), so tests end with no stray thread.
    daemon_threads = False
    block_on_close = True
    fake: FakeNotify


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # HTTP/1.0: one request per connection, so no client keeps a request thread waiting.
    protocol_version = "HTTP/1.0"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        match = re.fullmatch(r"/v2/notifications/(sms|email|letter)", self.path)
        if not match:
            self._reply(404, {"result": "error", "message": "The requested URL was not found on the server."})
            return
        self._answer(lambda: (201, self.server.fake.post_notification(match.group(1), body)))

    def do_GET(self) -> None:
        match = re.fullmatch(r"/v2/notifications/([^/?]+)", self.path)
        if not match:
            self._reply(404, {"result": "error", "message": "The requested URL was not found on the server."})
            return
        self._answer(lambda: (200, self.server.fake.get_notification(match.group(1))))

    def _answer(self, handle: Callable[[], tuple[int, dict[str, Any]]]) -> None:
        try:
            self.server.fake.authorise(self.headers.get("Authorization"))
            status, response = handle()
        except NotifyRefusal as refusal:
            status, response = refusal.status_code, refusal.body
        self._reply(status, response)

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; failures show in the assertions
