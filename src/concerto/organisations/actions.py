from django.db import transaction

from concerto.core.errors import InvalidInput
from concerto.organisations.models import ALLOWED_PARENTS, Organisation, OrganisationKind


@transaction.atomic
def create_organisation(
    *,
    code: str,
    name: str,
    kind: str,
    parent: Organisation | None = None,
    team_type: str = "",
    aligned_pcn: Organisation | None = None,
    postcode: str = "",
) -> Organisation:
    if kind not in OrganisationKind.values:
        raise InvalidInput(f"Unknown organisation kind {kind!r}.")
    allowed = ALLOWED_PARENTS[kind]
    if parent is None and allowed and kind != OrganisationKind.ICB:
        raise InvalidInput(f"A {OrganisationKind(kind).label} needs a parent ({', '.join(sorted(allowed))}).")
    if parent is not None and parent.kind not in allowed:
        raise InvalidInput(f"A {OrganisationKind(kind).label} cannot sit under a {parent.get_kind_display()}.")
    if (kind == OrganisationKind.MH_TEAM) != bool(team_type):
        raise InvalidInput("A team type is needed for mental health teams, and only for them.")
    if Organisation.objects.filter(code=code).exists():
        raise InvalidInput(f"An organisation with code {code} already exists.")
    return Organisation.objects.create(
        code=code,
        name=name,
        kind=kind,
        parent=parent,
        team_type=team_type,
        aligned_pcn=aligned_pcn,
        postcode=postcode,
    )
