"""`concerto indicators --engine duckdb|spark|db --data DIR --out FILE`: the catalogue as a table."""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from concerto.analytics import engines
from concerto.analytics.catalogue import INDICATORS
from concerto.analytics.run import organisation_parents, run_indicators
from concerto.core.errors import InvalidInput


class Command(BaseCommand):
    help = "Run every indicator on an extract (DuckDB or Spark) or the app's database; write CSV or Parquet."

    def add_arguments(self, parser):
        parser.add_argument("--engine", choices=["duckdb", "spark", "db"], default="duckdb")
        parser.add_argument("--data", type=Path, help="extract folder (duckdb, spark)")
        parser.add_argument("--out", type=Path, required=True, help="output file: .csv or .parquet")
        parser.add_argument("--months", type=int, default=1, help="monthly series: this many months to the latest")
        parser.add_argument(
            "--unsuppressed", action="store_true", help="true counts (inside the app only): no disclosure control"
        )

    def handle(self, *args, engine, data, out, months, unsuppressed, **options):
        if out.suffix not in {".csv", ".parquet"}:
            raise CommandError("--out must end in .csv or .parquet")
        try:
            if engine == "db":
                con = engines.live_database()
            elif data is None:
                raise CommandError("--data DIR is needed for the duckdb and spark engines")
            else:
                con = engines.duckdb_parquet(data) if engine == "duckdb" else engines.spark_parquet(data)
            periods = None
            if months > 1:
                from concerto.analytics.cohorts import Tables
                from concerto.analytics.run import default_period

                latest = default_period(Tables(con, engines.table)).month
                periods = [_months_back(latest, k) for k in range(months - 1, -1, -1)]
            with tqdm(total=months, desc="indicators", unit="month", disable=None) as bar:
                result = run_indicators(con, periods=periods, progress=lambda _m: bar.update(1))
            if not unsuppressed:
                from concerto.analytics.disclosure import protect

                parents = organisation_parents(Tables_for(con))
                result = protect(result, units={k: i.unit for k, i in INDICATORS.items()}, parents=parents)
        except InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".csv":
            result.to_csv(out, index=False)
        else:
            result.astype({"value": "float64"}).to_parquet(out, index=False)
        self.stdout.write(f"{len(result):,} rows written to {out}")


def Tables_for(con):
    from concerto.analytics.cohorts import Tables

    return Tables(con, engines.table)


def _months_back(month: dt.date, k: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - k
    return dt.date(index // 12, index % 12 + 1, 1)
