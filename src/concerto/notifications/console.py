"""The development backend: prints each message instead of sending it, and keeps what it 'sent'."""

import sys
import uuid
from typing import TextIO

from concerto.notifications.base import Channel, Message, Receipt


class ConsoleBackend:
    def __init__(self, *, stream: TextIO | None = None, redact: bool = False) -> None:
        # Resolved per write when not given, so pytest's capsys (which swaps sys.stdout) sees it.
        self._stream = stream
        # Outside development, stdout ends up in logs: print what was sent, never to whom or what.
        self.redact = redact
        self.outbox: list[Message] = []

    def send(self, message: Message) -> Receipt:
        stream = self._stream or sys.stdout
        stream.write(render_redacted(message) if self.redact else render(message))
        stream.flush()
        self.outbox.append(message)
        return Receipt(id=str(uuid.uuid4()), channel=message.channel, reference=message.reference, status="delivered")


def render(message: Message) -> str:
    if message.channel == Channel.LETTER:
        to = "\n".join(f"    {line}" for line in message.to).lstrip()
    else:
        to = str(message.to)
    lines = [
        f"----- {message.channel} · template {message.template} · reference {message.reference} -----",
        f"To: {to}",
        *(f"{key}: {value}" for key, value in message.personalisation.items()),
        "-----",
    ]
    return "\n".join(lines) + "\n"


def render_redacted(message: Message) -> str:
    return f"----- {message.channel} · template {message.template} · reference {message.reference} (redacted) -----\n"
