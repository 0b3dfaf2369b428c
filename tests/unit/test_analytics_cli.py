"""`concerto indicators`: output files, disclosure control and clear errors."""

import pandas as pd
import pytest
from django.core.management import CommandError, call_command


@pytest.fixture
def extract(synthetic_extract):
    return synthetic_extract


def test_published_figures_withhold_small_counts_and_round_the_rest(extract, tmp_path):
    out = tmp_path / "figures.csv"
    call_command("indicators", engine="duckdb", data=extract, out=out)
    published = pd.read_csv(out)
    counts = pd.concat([published.numerator, published.denominator]).dropna()
    assert not counts.empty and (counts % 5 == 0).all()
    raw_path = tmp_path / "raw.parquet"
    call_command("indicators", engine="duckdb", data=extract, out=raw_path, unsuppressed=True)
    raw = pd.read_parquet(raw_path)
    assert len(raw) == len(published)
    small = raw[(raw.numerator >= 1) & (raw.numerator <= 7)]
    assert not small.empty  # the test would prove nothing otherwise
    merged = small.merge(published, on=["indicator", "level", "organisation", "breakdown", "group"])
    assert merged.numerator_y.isna().all()


def test_a_missing_or_incomplete_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("indicators", engine="duckdb", data=tmp_path / "nowhere", out=tmp_path / "x.csv")
    (tmp_path / "half").mkdir()
    with pytest.raises(CommandError, match="not a complete extract: missing"):
        call_command("indicators", engine="duckdb", data=tmp_path / "half", out=tmp_path / "x.csv")
    with pytest.raises(CommandError, match=r"\.csv or \.parquet"):
        call_command("indicators", engine="duckdb", data=tmp_path, out=tmp_path / "x.txt")
