"""Letters, SMS and email to patients (recall invitations). See docs/notifications.md."""

from concerto.notifications.backends import get_backend, override_backend
from concerto.notifications.base import Channel, Message, NotificationBackend, NotificationError, Receipt

__all__ = [
    "Channel",
    "Message",
    "NotificationBackend",
    "NotificationError",
    "Receipt",
    "get_backend",
    "override_backend",
]
