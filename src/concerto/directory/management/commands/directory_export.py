import json
from pathlib import Path

from django.core.management.base import BaseCommand

from concerto.directory import selectors


class Command(BaseCommand):
    help = "Write the community directory as Open Referral UK v3 JSON (a page of services)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, nargs="?", help="Output file (default: standard output)")

    def handle(self, *args, path: Path | None = None, **options):
        text = json.dumps(selectors.export_document(), indent=1, ensure_ascii=False)
        if path is None:
            self.stdout.write(text)
        else:
            path.write_text(text + "\n")
            self.stdout.write(f"Wrote {path}.")
