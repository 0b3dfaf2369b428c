"""Published indicator results, computed on the live database once per month of data and stored.

Running the whole catalogue takes seconds per month, too long to do on every page view, so each
month's results are protected (`disclosure.protect`) and written as one Parquet file under
`DATA_DIR/analytics/published/`: only disclosure-controlled figures ever reach the disk. A month is
recomputed when its file is older than `FRESH_FOR` (the latest month) or `PAST_FRESH_FOR` (earlier
months, which change only when records are back-dated). Breakdowns are computed for the latest month
only: the dashboards show them for that month alone. A page view that finds stale months starts
computing them in a background thread (latest month first, each stored when done) and shows what is
stored meanwhile; `concerto publish_indicators` does the work up front (nightly, after data loads).
"""

import contextlib
import datetime as dt
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django import db
from django.conf import settings

from concerto.analytics import disclosure, engines, run
from concerto.analytics.catalogue import INDICATORS
from concerto.analytics.run import PUBLISHED

logger = logging.getLogger(__name__)

FRESH_FOR = dt.timedelta(hours=1)
PAST_FRESH_FOR = dt.timedelta(days=1)
LOCK_STALE = dt.timedelta(hours=2)
# Page views compute in a background thread and show what is stored so far; tests turn this off.
BACKGROUND = True
_worker: threading.Thread | None = None
_worker_lock = threading.Lock()


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
    """Compute and store `months`: the latest first (with breakdowns), then the others newest first,
    each stored as soon as it is done so the pages fill in while the rest run."""
    con = engines.live_database()
    units = {key: indicator.unit for key, indicator in INDICATORS.items()}
    for month in sorted(months, key=lambda m: (m != latest, -m.toordinal())):
        raw = run.run_indicators(con, periods=[month], breakdowns=month == latest, progress=progress)
        _write(disclosure.protect(raw, units=units, parents=parents), _path(month))


def _lock_path() -> Path:
    return directory() / "computing.lock"


def _start_in_background(months: list[dt.date], latest: dt.date, parents: Mapping[str, str]) -> None:
    """Compute in a thread of this process, unless this or another process already is (a lock file,
    ignored once older than LOCK_STALE in case its process died)."""
    global _worker
    with _worker_lock:
        if _worker is not None and _worker.is_alive():
            return
        lock = _lock_path()
        lock.parent.mkdir(parents=True, exist_ok=True)
        at = _computed_at(lock)
        if at is not None and dt.datetime.now(dt.UTC) - at > LOCK_STALE:
            lock.unlink(missing_ok=True)
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return

        def work() -> None:
            try:
                _lower_priority()
                _compute(months, latest, parents, None)
            except Exception:
                logger.exception("computing the published indicator figures failed")
            finally:
                lock.unlink(missing_ok=True)
                db.connection.close()  # this thread's own database connection

        _worker = threading.Thread(target=work, name="publish-indicators", daemon=True)
        _worker.start()


def _lower_priority() -> None:
    """Let page views (and everything else on the machine) come first: on Linux a thread has its own
    scheduling priority, addressed by its native id."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not permitted: normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def wait() -> None:
    """Wait for this process's background computation, if any (tests, the command)."""
    if _worker is not None:
        _worker.join()


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


@dataclass(frozen=True)
class Snapshot:
    results: pd.DataFrame
    as_of: dt.datetime | None  # when the oldest month shown was computed
    computing: list[dt.date]  # months being computed (or recomputed) now


def load(
    months: list[dt.date],
    *,
    parents: Mapping[str, str],
    now: dt.datetime,
    background: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Snapshot:
    """The stored results for `months` (oldest first). Stale months are computed first, or in the
    background (the snapshot then has what is stored so far and says which months are coming)."""
    stale = _stale(months, now)
    if stale and background:
        _start_in_background(stale, months[-1], parents)
    elif stale:
        _compute(stale, months[-1], parents, progress)
    stored = [m for m in months if _path(m).exists()]
    frames = [_read(_path(m)) for m in stored]
    times = [at for m in stored if (at := _computed_at(_path(m))) is not None]
    results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PUBLISHED)
    return Snapshot(results, min(times) if times else None, stale if background else [])


def forget() -> None:
    """Delete every stored month (they are recomputed on the next view)."""
    for path in directory().glob("*.parquet"):
        path.unlink(missing_ok=True)
