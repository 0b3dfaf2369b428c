from django.db import transaction

from concerto.core import codelists
from concerto.core.models import CodeListEntry, CodeListVersion


@transaction.atomic
def load_codelists(*, lists: dict[str, codelists.CodeList] | None = None) -> list[CodeListVersion]:
    """Copy code lists into the database. Idempotent: a name+version already loaded is left alone."""
    lists = codelists.all_codelists() if lists is None else lists
    loaded = []
    for cl in lists.values():
        version, created = CodeListVersion.objects.get_or_create(
            name=cl.name,
            version=cl.version,
            defaults={
                "system": cl.system,
                "description": cl.description,
                "source": cl.source,
                "licence": cl.licence,
            },
        )
        if created:
            unique = {(c.code, c.cluster): c for c in cl.codes}  # a code may repeat within a cluster file
            CodeListEntry.objects.bulk_create(
                CodeListEntry(codelist=version, code=c.code, term=c.term[:400], cluster=c.cluster)
                for c in unique.values()
            )
        loaded.append(version)
    return loaded
