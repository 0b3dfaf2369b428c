"""Run queued FHIR bulk exports: `concerto fhir_export_worker` (until none are left) or with
`--forever` (polling). Use it when FHIR_EXPORT_IN_THREAD is false, e.g. to keep long exports out
of web processes."""

import time

from django.core.management.base import BaseCommand

from concerto.api.fhir import export


class Command(BaseCommand):
    help = "Run queued FHIR bulk export jobs."

    def add_arguments(self, parser):
        parser.add_argument("--forever", action="store_true", help="Keep polling for new jobs.")
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between polls with --forever.")

    def handle(self, *args, forever: bool, interval: float, **options):
        done = 0
        while True:
            job = export.claim_next()
            if job is None:
                if not forever:
                    break
                time.sleep(interval)
                continue
            finished = export.execute(job)
            done += 1
            self.stdout.write(f"export {finished.public_id}: {finished.status}")
        self.stdout.write(f"{done} export job(s) run")
