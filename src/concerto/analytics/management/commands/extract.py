"""`concerto extract --out DIR`: the app's data as a pseudonymised analytic extract (Parquet).

Runs `analytics/live.py`'s queries (the same ones `live_database()` reads) and writes one file per
table in the extract schema, so an extract made here and one from a feed or the synthetic
generator are read the same way. No names, NHS numbers, postcodes or contact details."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.core.management.base import BaseCommand
from django.db import connection
from tqdm import tqdm

from concerto.analytics import live
from concerto.synthetic.schema import SCHEMA

BATCH = 50_000


class Command(BaseCommand):
    help = "Export the app's data as a pseudonymised Parquet extract (docs/extract-schema.md)."

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, required=True, help="folder to write <table>.parquet files into")

    def handle(self, *args, out: Path, **options):
        out.mkdir(parents=True, exist_ok=True)
        queries = live.queries(connection.vendor)
        total = 0
        with tqdm(queries.items(), desc="extract", unit="table", disable=None) as bar:
            for name, sql in bar:
                bar.set_postfix_str(name)
                rows = export_table(name, sql, out / f"{name}.parquet")
                total += rows
                self.stdout.write(f"{name}: {rows:,} rows")
        self.stdout.write(f"{total:,} rows in {len(queries)} tables written to {out}")


def export_table(name: str, sql: str, path: Path) -> int:
    schema = SCHEMA[name]
    writer = pq.ParquetWriter(path, schema, compression="zstd")
    rows = 0
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            while batch := cursor.fetchmany(BATCH):
                writer.write_table(_arrow(schema, batch))
                rows += len(batch)
        if rows == 0:
            writer.write_table(schema.empty_table())
    finally:
        writer.close()
    return rows


def _arrow(schema: pa.Schema, batch: list[tuple]) -> pa.Table:
    columns = list(zip(*batch, strict=True))
    arrays = []
    for field, values in zip(schema, columns, strict=True):
        target = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        array = pa.array([_python(v, target) for v in values], type=target)
        arrays.append(array.dictionary_encode() if pa.types.is_dictionary(field.type) else array)
    return pa.Table.from_arrays(arrays, schema=schema)


def _python(value, target: pa.DataType):
    """One database value as the schema's type (SQLite returns dates as text, PostgreSQL decimals)."""
    if value is None:
        return None
    if pa.types.is_date(target) and isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if pa.types.is_floating(target) and isinstance(value, (Decimal, str, int)):
        return float(value)
    if pa.types.is_boolean(target):
        return bool(value)
    return value
