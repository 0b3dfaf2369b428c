"""How long does synthesising 1,000,000 patients to Parquet take? Goal: under 60 s on 2 cores.

Prints the time and, as a ratio, how it compares with a floor measured in the same process:
writing tables of the same shape (random numbers, same row counts) to Parquet, which is the I/O
and encoding cost no generator can avoid. Run: `make bench` (or `python bench/synth_bench.py N`).
"""

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concerto.config.settings")
os.environ.setdefault("DEBUG", "true")

from concerto.synthetic.generator import SynthConfig, generate, write_parquet

GOAL_SECONDS = 60.0


def floor_run(shapes: dict[str, tuple[int, int]], out: Path) -> float:
    """Write random tables with the same row and column counts: the unavoidable cost."""
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for name, (rows, columns) in shapes.items():
        table = pa.table({f"c{i}": rng.integers(0, 1_000_000, rows) for i in range(columns)})
        pq.write_table(table, out / f"{name}.parquet", compression="zstd")
    return time.perf_counter() - start


def main() -> None:
    patients = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    config = SynthConfig(patients=patients, as_of=dt.date(2026, 11, 1))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        stages: list[tuple[str, float]] = []
        tables = generate(config, lambda stage: stages.append((stage, time.perf_counter() - start)))
        generated = time.perf_counter() - start
        write_parquet(tables, out / "synth")
        total = time.perf_counter() - start
        size = sum(p.stat().st_size for p in (out / "synth").iterdir())

        (out / "floor").mkdir()
        shapes = {name: (t.num_rows, t.num_columns) for name, t in tables.items()}
        floor = floor_run(shapes, out / "floor")

    rows = sum(t.num_rows for t in tables.values())
    print(f"Synthesised {patients:,} patients ({rows:,} rows, {size / 1e6:.0f} MB Parquet)")
    for (stage, at), nxt in zip(stages, [*(s[1] for s in stages[1:]), generated], strict=True):
        print(f"  {stage:<28} {nxt - at:6.2f} s")
    print(f"  {'writing Parquet':<28} {total - generated:6.2f} s")
    print(
        f"total                          {total:6.2f} s   goal ≤ {GOAL_SECONDS:.0f} s: "
        f"{'met' if total <= GOAL_SECONDS else 'NOT MET'}"
    )
    print(f"floor (same-shape random tables to Parquet) {floor:6.2f} s; ratio total/floor = {total / floor:.1f}x")
    print(f"throughput {patients / total:,.0f} patients/s on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
