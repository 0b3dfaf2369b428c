"""Reading a Parquet extract by its contract, and rolling cells up to figures whatever their order."""

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from concerto.analytics import engines
from concerto.analytics.catalogue import INDICATORS
from concerto.analytics.cohorts import BREAKDOWN_COLUMNS
from concerto.analytics.run import SUMMED, figures, run_indicators
from concerto.synthetic.schema import SCHEMA

PERIOD = dt.date(2026, 10, 1)


def test_a_feeds_parquet_is_read_with_the_contracts_columns_and_types(synthetic_extract, tmp_path):
    """A feed may send other columns and narrower types: the views hold the contract's columns,
    typed as the contract says, and the figures are those of the same rows in the contract's types."""
    for path in synthetic_extract.glob("*.parquet"):
        table = pq.read_table(path)
        if path.stem == "patients":
            at = table.schema.get_field_index("patient_id")
            table = table.set_column(at, "patient_id", table["patient_id"].cast(pa.int32()))
            table = table.append_column("feed_batch", pa.array(["b1"] * table.num_rows))
        pq.write_table(table, tmp_path / path.name)
    con = engines.duckdb_parquet(tmp_path)
    described = con.con.sql("DESCRIBE patients").fetchall()
    assert [row[0] for row in described] == SCHEMA["patients"].names
    assert dict((row[0], row[1]) for row in described)["patient_id"] == "BIGINT"
    as_sent = run_indicators(engines.duckdb_parquet(synthetic_extract), periods=[PERIOD])
    pd.testing.assert_frame_equal(run_indicators(con, periods=[PERIOD]), as_sent)


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
    once = figures(cube, chosen, parents, breakdowns=False, periods=[PERIOD])
    assert len(once) == 3 and once.value.notna().all()
    for seed in range(10):
        shuffled = cube.sample(frac=1, random_state=seed, ignore_index=True)
        pd.testing.assert_frame_equal(
            figures(shuffled, chosen, parents, breakdowns=False, periods=[PERIOD]), once, check_exact=True
        )
