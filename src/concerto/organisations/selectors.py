from django.db.models import QuerySet

from concerto.organisations.models import Organisation, OrganisationKind


def practices_in_pcn(pcn: Organisation) -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrganisationKind.GP_PRACTICE, parent=pcn)


def organisations_of_kind(kind: str) -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=kind)
