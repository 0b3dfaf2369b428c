"""Print a one-time portal sign-in link for a patient: for the demo, and for staff handing a link over
in person. Every link issued is audited."""

from django.core.management.base import BaseCommand, CommandError

from concerto.core import nhs_number as nhs_number_module
from concerto.people.models import Patient
from concerto.portal import actions


class Command(BaseCommand):
    help = "Print a one-time sign-in link to the patient portal for the patient with this NHS number."

    def add_arguments(self, parser):
        parser.add_argument("nhs_number")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="Where the app is served.")

    def handle(self, *args, nhs_number: str, base_url: str, **options):
        try:
            number = nhs_number_module.parse(nhs_number)
        except nhs_number_module.InvalidNHSNumber as exc:
            raise CommandError(str(exc)) from exc
        patient = Patient.objects.filter(nhs_number=number, date_of_death__isnull=True).first()
        if patient is None:
            raise CommandError("No living patient has that NHS number.")
        token = actions.issue_sign_in_link(patient=patient)
        self.stdout.write(f"{base_url.rstrip('/')}/my/sign-in/{token}/")
