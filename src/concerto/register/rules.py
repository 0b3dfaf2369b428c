"""The physical health check rules, read from a data file (rules/physical_health.toml).

Thresholds and code lists live in the file, not in code; this module turns it into checked,
immutable objects and fails loudly (naming the file and entry) when the file is wrong.
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from concerto.core import codelists
from concerto.core.errors import InvalidInput

DEFAULT_RULES = Path(__file__).resolve().parent / "rules" / "physical_health.toml"


@dataclass(frozen=True)
class Element:
    key: str
    label: str
    recorded: frozenset[str]
    declined: frozenset[str]
    unsuitable: frozenset[str]


@dataclass(frozen=True)
class Flag:
    key: str
    element: str
    label: str
    intervention: str
    value_codes: frozenset[str] = frozenset()
    status_codes: frozenset[str] = frozenset()
    at_least: Decimal | None = None
    above: Decimal | None = None
    unit: str = ""
    # Codes that are themselves the follow-up (e.g. a referral to alcohol services).
    cleared_by: frozenset[str] = frozenset()

    @property
    def is_status(self) -> bool:
        return bool(self.status_codes)

    def is_abnormal(self, value: Decimal | float | None) -> bool:
        if value is None:
            return False
        value = Decimal(str(value))
        if self.at_least is not None and value >= self.at_least:
            return True
        return self.above is not None and value > self.above

    @property
    def threshold_text(self) -> str:
        if self.at_least is not None:
            return f"≥ {self.at_least} {self.unit}".strip()
        if self.above is not None:
            return f"> {self.above} {self.unit}".strip()
        return ""


@dataclass(frozen=True)
class Intervention:
    key: str
    label: str


@dataclass(frozen=True)
class Rules:
    window_months: int
    target_percent: int
    due_soon_days: int
    elements: tuple[Element, ...]
    flags: tuple[Flag, ...]
    interventions: tuple[Intervention, ...]
    record_codes: dict[str, str]

    def element(self, key: str) -> Element:
        return next(e for e in self.elements if e.key == key)

    def intervention(self, key: str) -> Intervention:
        return next(i for i in self.interventions if i.key == key)

    def flags_for(self, element: str) -> tuple[Flag, ...]:
        return tuple(f for f in self.flags if f.element == element)

    @property
    def all_recorded_codes(self) -> frozenset[str]:
        return frozenset().union(*(e.recorded for e in self.elements))


def _codes(spec: dict, where: str) -> frozenset[str]:
    if "codes" in spec:
        return frozenset(str(c) for c in spec["codes"])
    cl = codelists.get(spec["codelist"])
    try:
        return frozenset(c.code for cluster in spec["clusters"] for c in cl.cluster(cluster))
    except KeyError as exc:
        raise InvalidInput(f"{where}: {exc.args[0]}") from None


def parse(path: Path) -> Rules:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read the physical health check rules ({exc})") from exc

    def clusters(e: dict, field: str) -> frozenset[str]:
        return _codes({"codelist": e["codelist"], "clusters": e[field]}, f"{path} element {e['key']}")

    elements = tuple(
        Element(
            key=e["key"],
            label=e["label"],
            recorded=clusters(e, "recorded") | frozenset(str(c) for c in e.get("extra_codes", [])),
            declined=clusters(e, "declined"),
            unsuitable=clusters(e, "unsuitable"),
        )
        for e in data["element"]
    )
    interventions = tuple(Intervention(key=i["key"], label=i["label"]) for i in data["intervention"])
    element_keys = {e.key for e in elements}
    intervention_keys = {i.key for i in interventions}
    flags = []
    for f in data["flag"]:
        where = f"{path} flag {f['key']}"
        if f["element"] not in element_keys or f["intervention"] not in intervention_keys:
            raise InvalidInput(f"{where}: unknown element or intervention")
        flag = Flag(
            key=f["key"],
            element=f["element"],
            label=f["label"],
            intervention=f["intervention"],
            value_codes=_codes(f["value_codes"], where) if "value_codes" in f else frozenset(),
            status_codes=_codes(f["status_codes"], where) if "status_codes" in f else frozenset(),
            at_least=Decimal(str(f["at_least"])) if "at_least" in f else None,
            above=Decimal(str(f["above"])) if "above" in f else None,
            unit=f.get("unit", ""),
            cleared_by=_codes(f["cleared_by"], where) if "cleared_by" in f else frozenset(),
        )
        if not flag.is_status and flag.at_least is None and flag.above is None:
            raise InvalidInput(f"{where}: a value flag needs `at_least` or `above`")
        flags.append(flag)
    if len(elements) != 6:
        raise InvalidInput(f"{path}: the check has six elements, found {len(elements)}")
    known = set().union(*(cl.code_set for cl in codelists.all_codelists().values()))
    record_codes = {k: str(v) for k, v in data["record_codes"].items()}
    unknown = {k: v for k, v in record_codes.items() if v not in known}
    if unknown:
        raise InvalidInput(f"{path}: record_codes not in any code list: {unknown}")
    return Rules(
        window_months=int(data["window_months"]),
        target_percent=int(data["target_percent"]),
        due_soon_days=int(data["due_soon_days"]),
        elements=elements,
        flags=tuple(flags),
        interventions=interventions,
        record_codes=record_codes,
    )


@functools.cache
def load() -> Rules:
    return parse(Path(os.environ.get("CONCERTO_PHC_RULES", DEFAULT_RULES)))
