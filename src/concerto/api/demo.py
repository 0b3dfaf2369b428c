"""A demo system client, so the API can be tried against the demo ICB with a published key (like
the demo password: synthetic data only, never in a real deployment)."""

from concerto.api.actions import create_api_client
from concerto.api.models import ApiClient
from concerto.organisations.models import Organisation

DEMO_CLIENT_ID = "cc_demo_gp_system"
DEMO_SECRET = "demo-only-synthetic-data"  # noqa: S105 (published on purpose, like DEMO_PASSWORD)
DEMO_KEY = f"{DEMO_CLIENT_ID}.{DEMO_SECRET}"
DEMO_PRACTICE = "Z90001"


def ensure_demo_client() -> str | None:
    """The demo GP system's bearer key (made once), or None without the demo practice."""
    if ApiClient.objects.filter(client_id=DEMO_CLIENT_ID).exists():
        return DEMO_KEY
    practice = Organisation.objects.filter(code=DEMO_PRACTICE).first()
    if practice is None:
        return None
    create_api_client(
        name="Demo GP system", organisation=practice, role="gp", by=None, client_id=DEMO_CLIENT_ID, secret=DEMO_SECRET
    )
    return DEMO_KEY
