from django.core.management.base import BaseCommand

from concerto.analytics import selectors, store


class Command(BaseCommand):
    help = (
        "Compute the analyst dashboards' figures now (every stale month of the last 24), protected by "
        "disclosure control and stored, so the first page view is quick. Run nightly after data loads."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", dest="recompute_all", help="Recompute every month, stale or not"
        )

    def handle(self, *args, recompute_all, **options):
        if recompute_all:
            store.forget()
        selectors.refresh_published(progress=lambda month: self.stdout.write(f"  {month}"))
        self.stdout.write(f"Published indicator figures are in {store.directory()}")
