"""API writes: clients, export jobs. Imports go through `concerto.api.fhir.transaction`, which
calls the people and records actions."""

import uuid
from dataclasses import dataclass

from django.db import transaction

from concerto.access.actions import add_membership
from concerto.access.models import Membership
from concerto.access.permissions import Permission
from concerto.access.policy import has_permission
from concerto.api import credentials
from concerto.api.models import ApiClient, ExportJob
from concerto.core import clock
from concerto.core.errors import NotPermitted
from concerto.organisations.models import Organisation
from concerto.people.actions import create_staff_user


@dataclass(frozen=True)
class IssuedClient:
    client: ApiClient
    key: str  # shown once: `<client id>.<secret>`; only the secret's hash is kept


@transaction.atomic
def create_api_client(
    *,
    name: str,
    organisation: Organisation,
    role: str,
    by: Membership | None,
    client_id: str | None = None,
    secret: str | None = None,
) -> IssuedClient:
    """A system client of `organisation` holding `role` there. `by=None` is the set-up command.
    A chosen `client_id`/`secret` is for the demo's published key only; real clients get random ones."""
    if by is not None and not has_permission(by, Permission.REFERENCE_DATA_ADMIN):
        raise NotPermitted("Only a system administrator can add API clients.")
    client_id = client_id or credentials.new_client_id()
    user = create_staff_user(username=f"api:{client_id}", password=None, first_name=name[:150])
    membership = add_membership(user=user, organisation=organisation, role=role, by=by)
    secret = secret or credentials.new_secret()
    client = ApiClient.objects.create(
        client_id=client_id,
        name=name,
        membership=membership,
        secret_hash=credentials.hash_secret(secret),
        created_at=clock.now(),
    )
    return IssuedClient(client=client, key=f"{client_id}.{secret}")


@transaction.atomic
def revoke_api_client(*, client: ApiClient, by: Membership | None) -> ApiClient:
    if by is not None and not has_permission(by, Permission.REFERENCE_DATA_ADMIN):
        raise NotPermitted("Only a system administrator can revoke API clients.")
    client.is_active = False
    client.save(update_fields=["is_active"])
    return client


@transaction.atomic
def queue_export(*, group: str, types: list[str], request_url: str, by: Membership) -> ExportJob:
    """Queue a bulk export; `concerto.api.fhir.export.run_job` does the work (thread or worker)."""
    return ExportJob.objects.create(
        public_id=uuid.uuid4(),
        requested_by=by,
        group=group,
        types=types,
        request_url=request_url,
        created_at=clock.now(),
    )
