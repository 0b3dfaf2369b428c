from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from concerto.directory import actions


class Command(BaseCommand):
    help = "Import an Open Referral UK v3 JSON file into the community directory (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="A JSON list of ORUK services, or an ORUK page with 'contents'")

    def handle(self, *args, path: Path, **options):
        try:
            result = actions.import_services(text=path.read_bytes(), by=None)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        except actions.ImportRejected as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Imported {path.name}: {result.created} new services, {result.updated} updated.")
