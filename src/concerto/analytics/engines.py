"""Where indicators run: Ibis connections whose tables are the extract schema (docs/extract-schema.md).

Every engine exposes the same table names (`patients`, `registrations`, `clinical_events`, …) with
the same columns, so an indicator written once in Ibis runs unchanged on each:

- `duckdb_parquet(dir)`: DuckDB over an extract folder of Parquet files (the embedded default);
- `spark_parquet(dir)`: Apache Spark (PySpark) over the same files (national scale);
- `live_database()`: the app's own database (SQLite or PostgreSQL), its tables mapped to the
  extract schema by SQL queries (`concerto.analytics.live`), read through the same connection;
- `from_tables(kind, tables)`: any engine over in-memory Arrow tables (tests, benchmarks).

Ibis 12's `create_table`/`cache` fail to drop their temporary tables with the installed SQLGlot, so
this module registers data and materialises intermediate results itself.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import sqlite3
import sys
import threading
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import ibis.expr.operations as ops
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

if TYPE_CHECKING:
    import pandas as pd

from concerto.core.errors import InvalidInput
from concerto.synthetic.schema import ANALYTIC_TABLES, SCHEMA

_names = itertools.count(1)


def duckdb_parquet(data_dir: Path | str, *, threads: int | None = None) -> BaseBackend:
    """DuckDB over the Parquet files of an extract folder (views: nothing is copied). Each view
    has exactly the contract's columns and types, so its tables are typed from the contract
    without asking the engine on every run."""
    files = _extract(Path(data_dir))
    con = ibis.duckdb.connect(threads=threads) if threads else ibis.duckdb.connect()
    for name, (path, found) in files.items():
        source = f"read_parquet('{_sql_string(path)}')"
        found = _plain_schema(found)
        columns = ", ".join(_contract_column(con, source, path, f, found.field(f.name).type) for f in _contract(name))
        con.raw_sql(f"CREATE VIEW {name} AS SELECT {columns} FROM {source}")  # noqa: S608
    setattr(con, _SCHEMAS, {name: ibis.Schema.from_pyarrow(_contract(name)) for name in files})
    return con


@functools.cache
def _contract(name: str) -> pa.Schema:
    """Extract table `name`'s columns and types by the contract, dictionaries decoded."""
    return _plain_schema(SCHEMA[name])


def _contract_column(con: BaseBackend, source: str, path: Path, field: pa.Field, found: pa.DataType) -> str:
    """A view's column: the file's own when its type is the contract's, else cast to it (a
    feed's int32 identifiers, say), once every value is known to cast: a feed's text dates
    are refused here, naming the file and column, not halfway through a run."""
    from ibis.backends.sql.datatypes import DuckDBType

    name = '"' + field.name.replace('"', '""') + '"'
    if found == field.type:
        return name
    wanted = DuckDBType.to_string(ibis.dtype(field.type))
    refused = con.con.sql(
        f"SELECT count(*) FROM {source} WHERE {name} IS NOT NULL AND TRY_CAST({name} AS {wanted}) IS NULL"  # noqa: S608
    ).fetchall()[0][0]
    if refused:
        raise InvalidInput(
            f"{path.name}: column {field.name} is {found}, not {field.type} as docs/extract-schema.md says, "
            f"and {refused:,} of its values cannot be read as {field.type}"
        )
    return f"CAST({name} AS {wanted}) AS {name}"


def spark_session():
    """One local Spark session per process: local mode, few shuffle partitions, no web UI."""
    return _spark_session(os.environ.get("CONCERTO_SPARK_MASTER", "local[2]"))


@functools.cache
def _spark_session(master: str):
    # The workers must run the driver's Python (PySpark refuses a different minor version).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(master)
        .appName("concerto-analytics")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_parquet(data_dir: Path | str, *, session=None) -> BaseBackend:
    """PySpark over the Parquet files of an extract folder (temporary views of exactly the
    contract's columns, cast to its types, as on DuckDB)."""
    from pyspark.sql import functions as F

    session = session or spark_session()
    for name, (path, _found) in _extract(Path(data_dir)).items():
        contract = _spark_schema(_contract(name))
        frame = session.read.parquet(str(path))
        frame.select(*[F.col(f.name).cast(f.dataType) for f in contract.fields]).createOrReplaceTempView(name)
    return ibis.pyspark.connect(session)


def from_tables(kind: str, tables: Mapping[str, pa.Table], *, session=None) -> BaseBackend:
    """An engine (`sqlite`, `duckdb`, `spark`) holding `tables`, which follow the extract schema."""
    tables = {name: _plain(table) for name, table in tables.items()}
    if kind == "duckdb":
        con = ibis.duckdb.connect()
        for name, table in tables.items():
            con.con.register(f"_arrow_{name}", table)
            con.raw_sql(f"CREATE TABLE {name} AS SELECT * FROM _arrow_{name}")  # noqa: S608 (schema names)
            con.con.unregister(f"_arrow_{name}")
        return con
    if kind == "sqlite":
        raw = sqlite3.connect(":memory:", check_same_thread=False)
        for name, table in tables.items():
            _sqlite_load(raw, name, table)
        return ibis.sqlite.from_connection(raw)
    if kind == "spark":
        session = session or spark_session()
        for name, table in tables.items():
            rows = list(zip(*(c.to_pylist() for c in table.columns), strict=True))
            frame = session.createDataFrame(rows, schema=_spark_schema(table.schema))
            frame.createOrReplaceTempView(name)
        return ibis.pyspark.connect(session)
    raise InvalidInput(f"unknown engine {kind!r}: use sqlite, duckdb or spark")


def live_database() -> BaseBackend:
    """An Ibis connection to the app's database (Django's own connection, so it sees what the
    app sees) whose extract-schema tables are the app's tables through `concerto.analytics.live`'s
    queries, typed by the extract schema."""
    from django.db import connection

    from concerto.analytics import live

    connection.ensure_connection()
    if connection.vendor == "sqlite":
        con = ibis.sqlite.from_connection(connection.connection)
        # Ibis turns on case-sensitive LIKE; Django's icontains on this shared connection relies
        # on SQLite's default (case-insensitive), so put it back.
        connection.connection.execute("PRAGMA case_sensitive_like = OFF")
    elif connection.vendor == "postgresql":
        con = ibis.postgres.from_connection(connection.connection)
    else:  # pragma: no cover - settings allow only these two
        raise InvalidInput(f"analytics cannot run on {connection.vendor}")
    # Kept on the connection itself, so it goes when the connection does (a registry keyed by
    # connection would hold every connection a long-running web process ever made).
    setattr(con, _QUERIES, live.queries(connection.vendor))
    return con


# The attribute of a connection whose tables are queries (the live database): name → SQL.
_QUERIES = "_concerto_extract_queries"
# The attribute of a connection whose tables are views of the contract's columns: name → schema.
_SCHEMAS = "_concerto_extract_schemas"


def table(con: BaseBackend, name: str) -> ibis.Table:
    """Extract table `name` on `con`."""
    schemas = getattr(con, _SCHEMAS, None)
    if schemas is not None and name in schemas:
        return _known(con, name, schemas[name])
    queries = getattr(con, _QUERIES, None)
    if queries is not None:
        return con.sql(queries[name], schema=ibis.Schema.from_pyarrow(_contract(name)))
    return con.table(name)


def _known(con: BaseBackend, name: str, schema: ibis.Schema) -> ibis.Table:
    """Table `name` on `con` with a schema already known: no lookup on the engine."""
    return ops.DatabaseTable(name, schema=schema, source=con).to_expr()


def add_table(con: BaseBackend, prefix: str, data: pa.Table, *, index: tuple[str, ...] = ()) -> ibis.Table:
    """A small table of reference data (code sets) on `con`, for this session only. `index`: the
    columns lookups go by, indexed where the engine would otherwise scan the table per row (SQLite
    runs a semi-join as a correlated EXISTS: seconds per code set on a practice's events)."""
    name = f"{prefix}_{next(_names)}"
    if con.name == "duckdb":
        con.con.register(name, data)
        return con.table(name)
    if con.name == "pyspark":
        session = con._session
        rows = list(zip(*(c.to_pylist() for c in data.columns), strict=True))
        session.createDataFrame(rows, schema=_spark_schema(data.schema)).createOrReplaceTempView(name)
        return con.table(name)
    if con.name == "sqlite":
        raw = con.con
        columns = ", ".join(f'"{f.name}" {_sqlite_type(f.type)}' for f in data.schema)
        raw.execute(f'CREATE TEMP TABLE "{name}" ({columns})')
        marks = ", ".join("?" * data.num_columns)
        values = zip(*(c.to_pylist() for c in data.columns), strict=True)
        raw.executemany(f'INSERT INTO temp."{name}" VALUES ({marks})', values)  # noqa: S608 (generated names)
        if index:
            columns = ", ".join(f'"{c}"' for c in index)
            raw.execute(f'CREATE INDEX temp."{name}_lookup" ON "{name}" ({columns})')
        _made(con, _TEMPORARY, name)
        return con.sql(f'SELECT * FROM temp."{name}"', schema=ibis.Schema.from_pyarrow(data.schema))  # noqa: S608
    if con.name == "postgres":
        columns = ", ".join(f'"{f.name}" TEXT' for f in data.schema)
        with con.con.cursor() as cursor:
            cursor.execute(f'CREATE TEMP TABLE "{name}" ({columns})')
            marks = ", ".join(["%s"] * data.num_columns)
            rows = list(zip(*(c.to_pylist() for c in data.columns), strict=True))
            cursor.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)  # noqa: S608 (generated names)
        _made(con, _TEMPORARY, name)
        return con.sql(f'SELECT * FROM "{name}"', schema=ibis.Schema.from_pyarrow(data.schema))  # noqa: S608
    raise InvalidInput(f"no reference tables on {con.name}")


# Attributes of a connection naming the temporary tables made on it, kept on the connection like
# its extract tables: reference tables, dropped by `release` (the live database's connection
# outlives one run), and cohorts, dropped by `discard` once a period's figures are fetched.
_TEMPORARY = "_concerto_temporary_tables"
_MATERIALISED = "_concerto_materialised_cohorts"


def _made(con: BaseBackend, kind: str, name: str) -> None:
    """Note that temporary table `name` of `kind` was made on `con`."""
    if not hasattr(con, kind):
        setattr(con, kind, [])
    getattr(con, kind).append(name)


def _taken(con: BaseBackend, kind: str) -> list[str]:
    """The temporary tables of `kind` noted on `con`, forgetting them."""
    names = getattr(con, kind, [])
    setattr(con, kind, [])
    return names


def discard(con: BaseBackend) -> None:
    """Drop the cohorts `materialise` made on `con` (a period's population alone is 1.5 million rows
    at ICB scale: a monthly series would otherwise hold every month's)."""
    _drop(con, _taken(con, _MATERIALISED))


def release(con: BaseBackend) -> None:
    """Drop the temporary tables this module made on `con`."""
    discard(con)
    _drop(con, _taken(con, _TEMPORARY))


def _drop(con: BaseBackend, names: list[str]) -> None:
    if con.name == "pyspark":
        for name in names:
            con._session.catalog.dropTempView(name)
    elif con.name == "sqlite":
        for name in names:
            con.con.execute(f'DROP TABLE IF EXISTS temp."{name}"')
    elif con.name == "postgres":
        with con.con.cursor() as cursor:
            for name in names:
                cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
    else:
        for name in names:
            con.raw_sql(f"DROP TABLE IF EXISTS {name}")


def materialise(con: BaseBackend, expr: ibis.Table) -> ibis.Table:
    """Compute `expr` once into a temporary table (or cached view) that later queries read."""
    name = f"concerto_tmp_{next(_names)}"
    sql = compile_sql(con, expr)
    if con.name == "pyspark":
        # A view, not CACHE TABLE: each eager cache is a Spark job of its own, and one job per
        # period (the final query) is what keeps Spark quick at small and large scale alike.
        con.raw_sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        _made(con, _MATERIALISED, name)
        return con.table(name)
    if con.name == "postgres":
        # The live database's cohorts are small: recomputing beats creating tables there.
        return expr
    if con.name == "sqlite":
        # Declared column types, so dates read back as dates (CREATE TABLE AS would lose them).
        columns = ", ".join(f'"{n}" {_sqlite_type(t.to_pyarrow())}' for n, t in expr.schema().items())
        con.raw_sql(f'CREATE TEMP TABLE "{name}" ({columns})')
        con.raw_sql(f'INSERT INTO "{name}" {sql}')
        if "patient_id" in expr.columns:  # later queries join and semi-join (EXISTS) on it
            con.raw_sql(f'CREATE INDEX temp."{name}_patient" ON "{name}" ("patient_id")')
        _made(con, _MATERIALISED, name)
        # Not con.table(): Ibis's SQLite schema lookup commits, which would end the caller's
        # transaction when this is Django's connection.
        return con.sql(f'SELECT * FROM temp."{name}"', schema=expr.schema())  # noqa: S608
    con.raw_sql(f"CREATE TEMP TABLE {name} AS {sql}")
    _made(con, _MATERIALISED, name)
    # Typed as the expression was (what a query reading it inline would have seen), not by
    # asking the engine again.
    return _known(con, name, expr.schema())


def materialiser(con: BaseBackend, *, shared: bool) -> Callable[[ibis.Table], ibis.Table]:
    """How a period's cohorts are kept on `con`: computed once into temporary tables when
    several queries read them (`shared`); otherwise read inline by the one query, which the
    engine then plans whole, except on SQLite, whose parser cannot take that much nesting."""
    if shared or con.name == "sqlite":
        return lambda expr: materialise(con, expr)
    return lambda expr: expr


def to_pandas(con: BaseBackend, expr: ibis.Table) -> pd.DataFrame:
    """`expr`'s rows as a frame, typed as `expr` says. On DuckDB straight from its Arrow result
    (so not for expressions holding `ibis.memtable`s, which Ibis registers only in `execute`):
    Ibis's `execute` searches the whole expression for spatial operations twice and converts
    column by column, a fixed cost per query larger than the query itself at PCN scale."""
    if con.name == "duckdb":
        # Cast: DuckDB's sum() is a 128-bit integer, which would arrive as Python Decimals.
        result = con.con.sql(compile_sql(con, expr)).to_arrow_table()
        return result.cast(expr.schema().to_pyarrow()).to_pandas()
    with _COMPILING:  # compiled inside: see compile_sql
        return expr.to_pandas()


# Held while Ibis compiles an indicator query: fusing is a process-wide option.
_COMPILING = threading.Lock()


def compile_sql(con: BaseBackend, expr: ibis.Table) -> str:
    """`expr` as SQL for `con`. For DuckDB without fusing nested selects into one: its optimiser
    does that itself, and Ibis's fusing pass is a third of the compile time. (SQLite cannot
    parse the deeper nesting, and the others gain nothing measurable.) Ibis's option is global,
    so it is turned off only under a lock that every indicator compile takes: a live-database
    run in a web process's background thread never compiles while it is off."""
    with _COMPILING:
        if con.name != "duckdb":
            return con.compile(expr)
        fused = ibis.options.sql.fuse_selects
        ibis.options.sql.fuse_selects = False
        try:
            return con.compile(expr)
        finally:
            ibis.options.sql.fuse_selects = fused


@contextlib.contextmanager
def quiet():
    """Silence Ibis's use of APIs that pandas 3 and DuckDB 2 deprecate (noise, not a fault)."""
    import pandas as pd

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning)
        warnings.filterwarnings("ignore", message="fetch_arrow_table", category=DeprecationWarning)
        yield


def _extract(data_dir: Path) -> dict[str, tuple[Path, pa.Schema]]:
    """Each extract table's file in `data_dir` and that file's schema, once every file is there
    with every column the contract names."""
    if not data_dir.is_dir():
        raise InvalidInput(f"{data_dir} is not a folder: point --data at an extract (docs/extract-schema.md)")
    paths = {name: data_dir / f"{name}.parquet" for name in ANALYTIC_TABLES}
    missing = [p.name for p in paths.values() if not p.exists()]
    if missing:
        raise InvalidInput(f"{data_dir} is not a complete extract: missing {', '.join(missing)}")
    found = {name: (path, pq.read_schema(path)) for name, path in paths.items()}
    for name, (path, schema) in found.items():
        lacking = set(SCHEMA[name].names) - set(schema.names)
        if lacking:
            raise InvalidInput(f"{path.name} lacks columns {', '.join(sorted(lacking))}")
    return found


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    plain = [pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type) for f in schema]
    return pa.schema(plain)


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary-encoded columns decoded: engines that load rows (SQLite, Spark) want plain types."""
    columns = [c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in table.columns]
    return pa.table(columns, names=table.column_names)


def _sqlite_type(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return "INTEGER"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_floating(t):
        return "REAL"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    return "TEXT"


def _sqlite_load(raw: sqlite3.Connection, name: str, table: pa.Table) -> None:
    columns = ", ".join(f'"{f.name}" {_sqlite_type(f.type)}' for f in table.schema)
    raw.execute(f'CREATE TABLE "{name}" ({columns})')
    rows = zip(*(_sqlite_values(c) for c in table.columns), strict=True) if table.num_columns else []
    marks = ", ".join("?" * table.num_columns)
    raw.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)  # noqa: S608 (schema names)
    raw.commit()


def _sqlite_values(column: pa.ChunkedArray) -> list:
    values = column.to_pylist()
    if pa.types.is_date(column.type):
        return [None if v is None else v.isoformat() for v in values]
    return values


def _spark_schema(schema: pa.Schema):
    from pyspark.sql import types as T

    def of(t: pa.DataType):
        if pa.types.is_int8(t):
            return T.ByteType()
        if pa.types.is_int16(t):
            return T.ShortType()
        if pa.types.is_int32(t):
            return T.IntegerType()
        if pa.types.is_integer(t):
            return T.LongType()
        if pa.types.is_date(t):
            return T.DateType()
        if pa.types.is_floating(t):
            return T.DoubleType()
        if pa.types.is_boolean(t):
            return T.BooleanType()
        return T.StringType()

    return T.StructType([T.StructField(f.name, of(f.type), True) for f in schema])


def _sql_string(value: object) -> str:
    return str(value).replace("'", "''")
