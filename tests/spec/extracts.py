"""Build small extracts by hand: rows as dicts, every other table empty, all in the schema."""

import pyarrow as pa

from concerto.synthetic.schema import ANALYTIC_TABLES, SCHEMA

ORGANISATIONS = [
    {"code": "Q1", "name": "ICB", "kind": "icb", "parent_code": ""},
    {"code": "P1", "name": "PCN", "kind": "pcn", "parent_code": "Q1"},
    {"code": "A1", "name": "Practice A1", "kind": "gp_practice", "parent_code": "P1"},
    {"code": "A2", "name": "Practice A2", "kind": "gp_practice", "parent_code": "P1"},
]


def extract(**rows: list[dict]) -> dict[str, pa.Table]:
    rows.setdefault("organisations", ORGANISATIONS)
    tables = {}
    for name in ANALYTIC_TABLES:
        schema = SCHEMA[name]
        given = rows.get(name, [])
        columns = {f.name: [r.get(f.name, _default(f.type)) for r in given] for f in schema}
        plain = pa.schema([pa.field(f.name, _plain(f.type)) for f in schema])
        tables[name] = pa.table(columns, schema=plain)
    return tables


def _plain(t: pa.DataType) -> pa.DataType:
    return t.value_type if pa.types.is_dictionary(t) else t


def _default(t: pa.DataType):
    return "" if pa.types.is_string(_plain(t)) else None
