"""Waiting-time standards per pathway, from rules/standards.toml (a site may supply its own)."""

import functools
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from concerto.organisations.models import Organisation, OrganisationKind

DEFAULT = Path(__file__).resolve().parent / "rules" / "standards.toml"
MILESTONES = ("first_contact", "assessed", "treatment_started")


@dataclass(frozen=True)
class Standard:
    key: str
    label: str
    stops_at: str
    target_days: int
    target_percent: int
    standard: str


@functools.cache
def load() -> dict[str, Standard]:
    data = tomllib.loads(Path(os.environ.get("CONCERTO_WAIT_STANDARDS", DEFAULT)).read_text())
    standards = {p["key"]: Standard(**p) for p in data["pathway"]}
    for s in standards.values():
        if s.stops_at not in MILESTONES:
            raise ValueError(f"pathway {s.key}: stops_at must be one of {', '.join(MILESTONES)}")
    return standards


def pathway_for(destination: Organisation) -> str | None:
    """The pathway a destination serves, or None if it cannot take referrals."""
    if destination.kind == OrganisationKind.MH_TEAM:
        return destination.team_type
    if destination.kind == OrganisationKind.LOCAL_AUTHORITY:
        return "la_social_care"
    if destination.kind == OrganisationKind.VCSE:
        return "vcse"
    return None
