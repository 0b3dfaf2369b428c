"""Reading a Parquet extract by its contract, and rolling cells up to figures whatever their order."""

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from concerto.analytics import engines
from concerto.analytics.catalogue import INDICATORS
from concerto.analytics.cohorts import BREAKDOWN_COLUMNS
from concerto.analytics.run import COLUMNS, SUMMED, figures, run_indicators
from concerto.core.errors import InvalidInput
from concerto.synthetic.schema import SCHEMA
from tests.spec.extracts import extract

PERIOD = dt.date(2026, 10, 1)


def feed_like(extract: Path, out: Path, *, text_dates: bool = False) -> Path:
    """`extract` as a feed might send it: patients with 32-bit identifiers and a column of the
    feed's own (and, with `text_dates`, clinical event dates as text, one of them not a date)."""
    for path in extract.glob("*.parquet"):
        table = pq.read_table(path)
        if path.stem == "patients":
            at = table.schema.get_field_index("patient_id")
            table = table.set_column(at, "patient_id", table["patient_id"].cast(pa.int32()))
            table = table.append_column("feed_batch", pa.array(["b1"] * table.num_rows))
        if path.stem == "clinical_events" and text_dates:
            dates = [d.isoformat() for d in table["date"].to_pylist()]
            dates[0] = "31/10/2026"
            table = table.set_column(table.schema.get_field_index("date"), "date", pa.array(dates))
        pq.write_table(table, out / path.name)
    return out


def test_a_feeds_parquet_is_read_with_the_contracts_columns_and_types(synthetic_extract, tmp_path):
    """A feed may send other columns and narrower types: the views hold the contract's columns,
    typed as the contract says, and the figures are those of the same rows in the contract's types."""
    con = engines.duckdb_parquet(feed_like(synthetic_extract, tmp_path))
    described = con.con.sql("DESCRIBE patients").fetchall()
    assert [row[0] for row in described] == SCHEMA["patients"].names
    assert dict((row[0], row[1]) for row in described)["patient_id"] == "BIGINT"
    as_sent = run_indicators(engines.duckdb_parquet(synthetic_extract), periods=[PERIOD])
    pd.testing.assert_frame_equal(run_indicators(con, periods=[PERIOD]), as_sent)


@pytest.mark.spark
@pytest.mark.slow
def test_spark_reads_a_feeds_parquet_with_the_contracts_columns_and_types(synthetic_extract, tmp_path, spark):
    con = engines.spark_parquet(feed_like(synthetic_extract, tmp_path), session=spark)
    assert (
        con.table("patients").schema() == engines.table(engines.duckdb_parquet(synthetic_extract), "patients").schema()
    )
    chosen = ["smi_register", "phc_all_six"]
    on_spark = run_indicators(con, periods=[PERIOD], indicators=chosen, breakdowns=False)
    on_duckdb = run_indicators(
        engines.duckdb_parquet(synthetic_extract), periods=[PERIOD], indicators=chosen, breakdowns=False
    )
    pd.testing.assert_frame_equal(on_spark, on_duckdb)


def test_values_a_feed_sends_that_do_not_fit_the_contract_are_refused_up_front(synthetic_extract, tmp_path):
    with pytest.raises(
        InvalidInput, match=r"clinical_events.parquet: column date is string, not date32.*1 of its values"
    ):
        engines.duckdb_parquet(feed_like(synthetic_extract, tmp_path, text_dates=True))


def test_nobody_in_any_unit_gives_no_figures_with_the_usual_columns():
    con = engines.from_tables("duckdb", extract())
    result = run_indicators(con, periods=[PERIOD])
    assert result.empty and list(result.columns) == COLUMNS
    assert all(pd.api.types.is_string_dtype(result[c]) for c in ("indicator", "level", "organisation", "group"))


def test_figures_do_not_depend_on_the_order_an_engine_returns_its_cells():
    """Engines return rows in any order; a mean must add its floats up the same way every time,
    or two engines' (or two runs') figures could differ in the last digit. Many continuity cells
    in one practice: their Bice-Boxerman indices are not exact in binary."""
    random = np.random.default_rng(7)
    contacts = random.integers(2, 30, size=400)
    cube = pd.DataFrame(
        {
            "practice_code": "A1",
            **dict.fromkeys(BREAKDOWN_COLUMNS, "all"),
            "measure": contacts,
            "measure2": [int(random.integers(c, c * c + 1)) for c in contacts],
            **dict.fromkeys(SUMMED, 1),
            "indicator": "continuity_bice_boxerman",
            "period": PERIOD,
        }
    )
    chosen = [INDICATORS["continuity_bice_boxerman"]]
    parents = {"A1": "P1", "P1": "Q1"}
    once = figures(cube, chosen, parents, breakdowns=False)
    assert len(once) == 3 and once.value.notna().all()
    for seed in range(10):
        shuffled = cube.sample(frac=1, random_state=seed, ignore_index=True)
        pd.testing.assert_frame_equal(figures(shuffled, chosen, parents, breakdowns=False), once, check_exact=True)
