"""Client credentials: the bearer key a system presents is `<client id>.<secret>`."""

import datetime as dt
import hashlib
import hmac
import secrets

from django.utils import timezone

from concerto.access.models import Membership
from concerto.api.models import ApiClient


def new_client_id() -> str:
    return "cc_" + secrets.token_hex(8)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def membership_for_key(key: str) -> Membership | None:
    """The membership an active client's key acts as, or None for anything else (unknown client,
    wrong secret, inactive client or membership): all look the same to the caller."""
    client_id, _, secret = key.strip().partition(".")
    if not client_id or not secret:
        return None
    client = (
        ApiClient.objects.select_related("membership__organisation", "membership__user")
        .filter(client_id=client_id, is_active=True)
        .first()
    )
    if client is None or not hmac.compare_digest(client.secret_hash, hash_secret(secret)):
        return None
    if not client.membership.is_active:
        return None
    # Last use to the minute: enough to spot a dormant key, without a write on every request.
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > dt.timedelta(minutes=1):
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client.membership


def bearer_key(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key:
        return None
    return key
