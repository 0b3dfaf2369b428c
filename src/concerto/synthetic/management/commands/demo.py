import io
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from concerto.api import demo as api_demo
from concerto.careplans import demo as careplans_demo
from concerto.core import clock
from concerto.core.actions import load_codelists
from concerto.directory import demo as directory_demo
from concerto.notifications import override_backend
from concerto.notifications.console import ConsoleBackend
from concerto.organisations.models import Organisation
from concerto.outcomes import demo as outcomes_demo
from concerto.portal.demo import portal_patient
from concerto.synthetic import demo
from concerto.synthetic.generator import SynthConfig, generate, write_parquet
from concerto.synthetic.management.commands.synth import load_into_database


class Command(BaseCommand):
    help = "Load the demo ICB (first run only), create one demo user per role and print the log-ins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--patients",
            type=int,
            default=demo.DEMO_PATIENTS,
            help="Population size on first load (default %(default)s)",
        )

    def handle(self, *args, patients, **options):
        load_codelists()
        config = SynthConfig(patients=patients, practices=demo.DEMO_PRACTICES, pcns=demo.DEMO_PCNS, as_of=clock.today())
        if Organisation.objects.filter(code=config.icb_code).exists():
            self.stdout.write("Demo ICB already loaded: keeping it.")
        else:
            out = Path(settings.DATA_DIR) / "demo-extract"
            self.stdout.write(f"Generating the demo ICB ({config.patients:,} patients) …")
            tables = generate(config)
            write_parquet(tables, out)
            load_into_database(self, out, quiet=options["verbosity"] == 0)
        users = demo.ensure_demo_users()
        added = demo.ensure_care_teams()
        if added:
            self.stdout.write(f"Added {added} care-team entries for the demo.")
        # Setting up the demo tells nobody: its status messages go to a discarded console.
        with override_backend(ConsoleBackend(stream=io.StringIO())):
            referrals = demo.ensure_referrals()
            questionnaires = outcomes_demo.ensure_responses()
        if referrals:
            self.stdout.write(f"Added {referrals} referrals for the demo.")
        if questionnaires:
            self.stdout.write(f"Added {questionnaires} questionnaire responses for the demo.")
        if plans := careplans_demo.ensure_care_plans():
            self.stdout.write(f"Added {plans} care and crisis plans for the demo.")
        if services := directory_demo.ensure_directory():
            self.stdout.write(f"Added {services} community directory services for the demo.")
        self._print_logins(users)
        if api_key := api_demo.ensure_demo_client():
            self.stdout.write(f"APIs (docs/api.md): send 'Authorization: Bearer {api_key}' (a demo GP system).\n")

    def _print_logins(self, users):
        self.stdout.write(
            "\nDemo log-ins (synthetic data only). Password for all: " + self.style.SUCCESS(demo.DEMO_PASSWORD)
        )
        self.stdout.write(f"{'username':<14} {'role':<36} organisation")
        self.stdout.write(f"{'-' * 14} {'-' * 36} {'-' * 40}")
        for du, membership in users:
            self.stdout.write(
                f"{du.username:<14} {membership.role_definition.title:<36} {membership.organisation.name}"
            )
        self.stdout.write("\nOpen http://127.0.0.1:8000 and log in.\n")
        patient = portal_patient()
        if patient is not None:
            self.stdout.write(
                "Patient portal: open http://127.0.0.1:8000/my/sign-in/ and enter NHS number "
                f"{patient.formatted_nhs_number}, date of birth {patient.date_of_birth:%d %m %Y}. The texted "
                "sign-in link is printed in this console (the demo's notifications backend).\n"
            )
