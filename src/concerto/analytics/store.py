"""Published indicator results, computed on the live database once per month of data and stored.

Running the whole catalogue takes seconds per month, too long to do on every page view, so each
month's results are protected (`disclosure.protect`) and written as one Parquet file under
`DATA_DIR/analytics/published/`: only disclosure-controlled figures ever reach the disk. A month is
recomputed when its file is older than `FRESH_FOR` (the latest month) or `PAST_FRESH_FOR` (earlier
months, which change only when records are back-dated). Breakdowns are computed for the latest month
only: the dashboards show them for that month alone. `concerto publish_indicators` does the work up
front (nightly, after data loads), so page views seldom wait for it.
"""

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from concerto.analytics import disclosure, engines, run
from concerto.analytics.catalogue import INDICATORS

FRESH_FOR = dt.timedelta(hours=1)
PAST_FRESH_FOR = dt.timedelta(days=1)
BATCH = 6


def directory() -> Path:
    return Path(settings.DATA_DIR) / "analytics" / "published"


def _path(month: dt.date) -> Path:
    return directory() / f"{month:%Y-%m}.parquet"


def _computed_at(path: Path) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    except FileNotFoundError:
        return None


def _stale(months: list[dt.date], now: dt.datetime) -> list[dt.date]:
    stale = []
    for month in months:
        at = _computed_at(_path(month))
        fresh_for = FRESH_FOR if month == months[-1] else PAST_FRESH_FOR
        if at is None or now - at > fresh_for:
            stale.append(month)
    return stale


def _compute(months: list[dt.date], latest: dt.date, parents: Mapping[str, str], progress) -> None:
    con = engines.live_database()
    units = {key: indicator.unit for key, indicator in INDICATORS.items()}
    past = [m for m in months if m != latest]
    # In batches: the engine's query grows with the months asked for (SQLite's parser overflowed at 23).
    runs = [(past[i : i + BATCH], False) for i in range(0, len(past), BATCH)]
    if latest in months:
        runs.append(([latest], True))
    for periods, breakdowns in runs:
        raw = run.run_indicators(con, periods=periods, breakdowns=breakdowns, progress=progress)
        published = disclosure.protect(raw, units=units, parents=parents)
        for month in periods:
            _write(published[published.period == month], _path(month))


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    # Write then rename, so a reader never sees half a file.
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        pq.write_table(table, tmp.name)
    os.replace(tmp.name, path)


def _read(path: Path) -> pd.DataFrame:
    frame = pq.read_table(path).to_pandas()
    frame["numerator"] = frame["numerator"].astype("Int64")
    frame["denominator"] = frame["denominator"].astype("Int64")
    frame["value"] = pd.Series([None if pd.isna(v) else float(v) for v in frame["value"]], dtype=object)
    return frame


def load(
    months: list[dt.date],
    *,
    parents: Mapping[str, str],
    now: dt.datetime,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, dt.datetime]:
    """The published results for `months` (oldest first), computing stale months first; and the
    time the oldest of them was computed."""
    stale = _stale(months, now)
    if stale:
        _compute(stale, months[-1], parents, progress)
    frames = [_read(_path(m)) for m in months]
    as_of = min(at for m in months if (at := _computed_at(_path(m))) is not None)
    return pd.concat(frames, ignore_index=True), as_of


def forget() -> None:
    """Delete every stored month (they are recomputed on the next view)."""
    for path in directory().glob("*.parquet"):
        path.unlink(missing_ok=True)
