"""Choosing the backend from settings (NOTIFICATIONS_BACKEND and NOTIFY_*; see docs/notifications.md)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from concerto.notifications.base import NotificationBackend
from concerto.notifications.console import ConsoleBackend
from concerto.notifications.notify import DEFAULT_BASE_URL, NotifyBackend

_override: NotificationBackend | None = None


def get_backend() -> NotificationBackend:
    """The configured backend. Built on every call (backends are cheap and hold no connections),
    so `override_settings` in tests takes effect; `override_backend` swaps in a ready instance."""
    if _override is not None:
        return _override
    name = getattr(settings, "NOTIFICATIONS_BACKEND", "console")
    if name == "console":
        return ConsoleBackend(redact=not settings.DEBUG)
    if name == "notify":
        api_key = getattr(settings, "NOTIFY_API_KEY", "")
        if not api_key:
            raise ImproperlyConfigured(
                "NOTIFICATIONS_BACKEND is 'notify' but NOTIFY_API_KEY is not set. Set it in the "
                "environment or .env (see dotenv-sample), or use NOTIFICATIONS_BACKEND=console."
            )
        try:
            return NotifyBackend(
                api_key=api_key,
                base_url=getattr(settings, "NOTIFY_BASE_URL", DEFAULT_BASE_URL),
                templates=getattr(settings, "NOTIFY_TEMPLATES", {}),
            )
        except ValueError as exc:
            raise ImproperlyConfigured(f"GOV.UK Notify settings: {exc} (see dotenv-sample)") from exc
    raise ImproperlyConfigured(f"NOTIFICATIONS_BACKEND must be 'console' or 'notify', not {name!r}")


@contextmanager
def override_backend(backend: NotificationBackend) -> Iterator[NotificationBackend]:
    """Make get_backend() return `backend` inside the block (tests: inspect what was sent)."""
    global _override
    previous, _override = _override, backend
    try:
        yield backend
    finally:
        _override = previous
