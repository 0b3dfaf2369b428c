"""Make a system client: `concerto create_api_client --organisation Y90001 --role gp --name "GP system"`.
Prints the key once (only its hash is kept)."""

from django.core.management.base import BaseCommand, CommandError

from concerto.api.actions import create_api_client
from concerto.core.errors import ConcertoError
from concerto.organisations.models import Organisation


class Command(BaseCommand):
    help = "Create an API client for an organisation and print its bearer key (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--organisation", required=True, help="ODS code")
        parser.add_argument("--role", required=True, help="Role key, e.g. gp or practice_admin")
        parser.add_argument("--name", required=True)

    def handle(self, *args, organisation: str, role: str, name: str, **options):
        org = Organisation.objects.filter(code=organisation).first()
        if org is None:
            raise CommandError(f"No organisation with ODS code {organisation}")
        try:
            issued = create_api_client(name=name, organisation=org, role=role, by=None)
        except ConcertoError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"client id: {issued.client.client_id}")
        self.stdout.write(f"bearer key (shown once): {issued.key}")
