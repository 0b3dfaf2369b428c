"""The notifications interface: one message to one patient, sent by whichever backend is configured.

Templates are named by our own key (e.g. "phc_invitation"); each backend maps the key to its own
template, so code that sends a recall invitation never holds a GOV.UK Notify template id.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

# GOV.UK Notify reads a letter's address from these personalisation keys, and ignores any more.
MAX_ADDRESS_LINES = 7
ADDRESS_LINE_PREFIX = "address_line_"


class Channel(StrEnum):
    SMS = "sms"
    LETTER = "letter"
    EMAIL = "email"


@dataclass(frozen=True)
class Message:
    """What to send. `to` is a phone number (sms), an email address (email) or the address lines
    of a letter, with a UK postcode last. `reference` is ours (for example a recall id): Notify
    stores and shows it, so it must never hold patient data."""

    channel: Channel
    to: str | tuple[str, ...]
    template: str
    personalisation: dict[str, str]
    reference: str

    def __post_init__(self) -> None:
        # Programming errors, not patient-data problems: fail at construction, not at sending.
        if self.channel == Channel.LETTER:
            if not isinstance(self.to, tuple) or not all(isinstance(line, str) for line in self.to):
                raise TypeError("a letter is addressed to a tuple of address lines")
            if any(key.startswith(ADDRESS_LINE_PREFIX) for key in self.personalisation):
                raise ValueError("give a letter's address as `to`, not as address_line_* personalisation")
        elif not isinstance(self.to, str):
            raise TypeError(f"an {self.channel} message is addressed to a string")


@dataclass(frozen=True)
class Receipt:
    """The backend's record of accepting a message. `status` is the backend's own word for it
    (Notify: "created" on acceptance; delivery is reported later)."""

    id: str
    channel: Channel
    reference: str
    status: str


class NotificationError(Exception):
    """Sending failed. The message is safe to show staff: it names fields and reasons, never the
    patient's details (Notify's error messages name the field, not its value)."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class NotificationBackend(Protocol):
    def send(self, message: Message) -> Receipt: ...
