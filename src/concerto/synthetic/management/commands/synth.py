import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from concerto.core import clock
from concerto.core.errors import InvalidInput
from concerto.synthetic.generator import SynthConfig, generate, write_parquet
from concerto.synthetic.loader import LOADED_TABLES, load_extract


class Command(BaseCommand):
    help = (
        "Generate a deterministic synthetic ICB population as Parquet in the extract schema; "
        "--load also loads it into the database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=40_000)
        parser.add_argument("--seed", type=int, default=SynthConfig.seed)
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="Reference date (YYYY-MM-DD); default today",
        )
        parser.add_argument("--practices", type=int, default=None, help="Default: one per 5,000 patients")
        parser.add_argument("--pcns", type=int, default=None, help="Default: one per 4 practices")
        parser.add_argument("--out", type=Path, default=None, help="Output folder; default DATA_DIR/synth-<patients>")
        parser.add_argument("--load", action="store_true", help="Load the extract into the database")

    def handle(self, *args, patients, seed, as_of, practices, pcns, out, load, **options):
        if patients < 1:
            raise CommandError("--patients must be at least 1")
        config = SynthConfig(patients=patients, seed=seed, as_of=as_of or clock.today(), practices=practices, pcns=pcns)
        out = out or Path(settings.DATA_DIR) / f"synth-{patients}"
        stages = 9  # the generator's eight stages, then writing Parquet
        with tqdm(total=stages, desc="Synthesising", unit="stage", disable=options["verbosity"] == 0) as bar:

            def progress(stage: str) -> None:
                bar.set_postfix_str(stage)
                bar.update(1)

            tables = generate(config, progress)
            progress("writing Parquet")
            write_parquet(tables, out)
        rows = ", ".join(f"{name} {table.num_rows:,}" for name, table in tables.items())
        self.stdout.write(f"Wrote {out}: {rows}")
        if load:
            load_into_database(self, out, quiet=options["verbosity"] == 0)


def load_into_database(command: BaseCommand, folder: Path, quiet: bool = False) -> None:
    total = sum(pq.ParquetFile(folder / f"{name}.parquet").metadata.num_rows for name in LOADED_TABLES)
    with tqdm(total=total, desc="Loading", unit="row", disable=quiet) as bar:
        try:
            summary = load_extract(folder, advance=bar.update)
        except InvalidInput as exc:
            raise CommandError(str(exc)) from exc
    command.stdout.write(
        f"Loaded {summary.staff:,} staff, {summary.patients:,} patients, "
        f"{summary.registrations:,} registrations, "
        f"{summary.clinical_events:,} clinical events, {summary.medications:,} medication issues"
        + (
            f"; skipped {summary.patients_without_nhs_number:,} without an NHS number"
            if summary.patients_without_nhs_number
            else ""
        )
    )
