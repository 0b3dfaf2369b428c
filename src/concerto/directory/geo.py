"""Distances from a person's postcode to a service, over postcode-district centroids.

A centroid file (`data/postcode_centroids.csv`, one row per outward code) is enough to say "about
2 km away" without sending anyone's postcode to a mapping service. The demo area's outward codes
(DM1–DM8) are fictional; a site supplies its own file with `CONCERTO_POSTCODE_CENTROIDS`.
"""

from __future__ import annotations

import csv
import functools
import math
import os
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent / "data" / "postcode_centroids.csv"
EARTH_RADIUS_KM = 6371.0088

Point = tuple[float, float]


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance in kilometres between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def outward_code(postcode: str) -> str:
    """'dm3 2ab' → 'DM3'; a bare outward code stays as it is."""
    compact = "".join(postcode.split()).upper()
    if " " in postcode.strip():
        return postcode.strip().split()[0].upper()
    return compact[:-3] if len(compact) > 4 else compact


@functools.cache
def centroids() -> dict[str, Point]:
    path = Path(os.environ.get("CONCERTO_POSTCODE_CENTROIDS", DEFAULT))
    with path.open(newline="") as f:
        return {
            row["outward_code"].upper(): (float(row["latitude"]), float(row["longitude"])) for row in csv.DictReader(f)
        }


def centroid(postcode: str) -> Point | None:
    """The centroid of the postcode's district, or None when the file does not know it."""
    if not postcode.strip():
        return None
    return centroids().get(outward_code(postcode))
