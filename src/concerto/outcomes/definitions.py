"""Questionnaires as data: FHIR-Questionnaire-like JSON definitions, validated on load.

Shipped definitions live in `outcomes/questionnaires/` (PHQ-9 and GAD-7 in full; DIALOG and GBO
as structure with attribution). A site adds its own licensed questionnaires (ReQoL-10, SWEMWBS …)
as JSON files in `settings.QUESTIONNAIRE_DIR` (`CONCERTO_QUESTIONNAIRE_DIR`), usually with
`concerto load_questionnaire FILE`; licensed wording is never in this repository. A site file with
the key of a shipped questionnaire replaces it only when its questions and answer values are the
same (so official DIALOG or GBO wording can be loaded without breaking scoring or history).

The format (see docs/outcomes.md): `key`, `url`, `version`, `title`, `copyright`, `licence`,
`contained` (named answer lists, referenced as `answerValueSet: "#name"`), `item` (FHIR items:
`linkId`, `text`, `type` group/choice/boolean/integer/string, `required`, `answerOption`,
`enableWhen`), `scoring` (sum, mean or value of items, with range and bands) and `risk` (answers
that must alert the care team).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from concerto.core.errors import InvalidInput

logger = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).resolve().parent / "questionnaires"
ANSWER_TYPES = {"choice", "boolean", "integer", "string"}
OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}
SCORING_METHODS = {"sum", "mean", "value"}
RESERVED_LINK_IDS = {"form_key", "completed_on", "completed_by_patient"}  # fields the forms add
_KEY = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")


class DefinitionError(ValueError):
    """A questionnaire file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class Option:
    value: int
    display: str


@dataclass(frozen=True)
class Condition:
    """FHIR enableWhen / our risk rule: `question` `operator` `answer`."""

    question: str
    operator: str
    answer: Any

    def holds(self, answers: dict[str, Any]) -> bool:
        given = answers.get(self.question)
        if self.operator == "exists":
            return (given not in (None, "")) == bool(self.answer)
        if given is None or isinstance(given, bool) != isinstance(self.answer, bool):
            return False
        if self.operator == "=":
            return given == self.answer
        if self.operator == "!=":
            return given != self.answer
        if isinstance(given, str) or isinstance(self.answer, str):
            return False
        return {">": given > self.answer, "<": given < self.answer, ">=": given >= self.answer}.get(
            self.operator, given <= self.answer
        )


@dataclass(frozen=True)
class Item:
    """An answerable question; `group` is the text of the group it sits in (e.g. a DIALOG domain)."""

    link_id: str
    text: str
    type: str
    required: bool
    options: tuple[Option, ...] = ()
    group: str = ""
    subscale: str = ""
    min_value: int | None = None
    max_value: int | None = None
    max_length: int = 1000
    enable_when: tuple[Condition, ...] = ()

    def enabled(self, answers: dict[str, Any]) -> bool:
        return all(c.holds(answers) for c in self.enable_when)

    def display(self, value: Any) -> str:
        if value is None or value == "":
            return "Not answered"
        if self.type == "boolean":
            return "Yes" if value else "No"
        for option in self.options:
            if option.value == value:
                return option.display
        return str(value)


@dataclass(frozen=True)
class Band:
    min: float
    max: float
    label: str


@dataclass(frozen=True)
class ScoreRule:
    key: str
    label: str
    method: str
    items: tuple[str, ...]
    range: tuple[float, float]
    bands: tuple[Band, ...] = ()
    higher_is_worse: bool = False
    reference: float | None = None
    decimals: int = 0
    # GBO: change from the first response whose `same_answer` item matched (the same goal).
    change_from_baseline: bool = False
    same_answer: str = ""
    conversion: dict[int, float] = field(default_factory=dict)

    def band(self, value: float | None) -> str:
        if value is None:
            return ""
        return next((b.label for b in self.bands if b.min <= value <= b.max), "")


@dataclass(frozen=True)
class RiskRule:
    condition: Condition
    reason: str


@dataclass(frozen=True)
class Group:
    link_id: str
    text: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Questionnaire:
    key: str
    url: str
    version: str
    title: str
    description: str
    copyright: str
    licence_summary: str
    wording: str  # "full" (the instrument's own text), "structure" (labels only) or "site"
    sections: tuple[Group, ...]
    scoring: tuple[ScoreRule, ...]
    risk: tuple[RiskRule, ...]
    source: str  # "shipped" or the site file it came from

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for section in self.sections for item in section.items)

    def item(self, link_id: str) -> Item | None:
        return next((i for i in self.items if i.link_id == link_id), None)

    @property
    def shape(self) -> list[tuple[str, str, tuple[int, ...]]]:
        """What must not change when a site replaces the wording: questions, types and values."""
        return [(i.link_id, i.type, tuple(o.value for o in i.options)) for i in self.items]


def _fail(source: str, problem: str) -> DefinitionError:
    return DefinitionError(f"{source}: {problem}")


def _options(raw: list, where: str) -> tuple[Option, ...]:
    options = []
    for o in raw:
        if not isinstance(o, dict) or not isinstance(o.get("value"), int) or isinstance(o.get("value"), bool):
            raise _fail(where, "each answer option needs an integer 'value' and a 'display'")
        options.append(Option(o["value"], str(o.get("display", o["value"]))))
    if len({o.value for o in options}) != len(options):
        raise _fail(where, "answer option values must be unique")
    return tuple(options)


def _condition(raw: dict, where: str) -> Condition:
    question, operator = raw.get("question") or raw.get("linkId"), raw.get("operator")
    answer = raw.get("answer", raw.get("value"))
    if not question or operator not in OPERATORS:
        raise _fail(where, f"a condition needs a question and an operator among {sorted(OPERATORS)}")
    return Condition(str(question), operator, answer)


def _item(raw: dict, contained: dict, group: str, subscale: str, where: str) -> Item:
    link_id, kind = raw.get("linkId"), raw.get("type")
    if not isinstance(link_id, str) or not link_id:
        raise _fail(where, "every item needs a linkId")
    where = f"{where} item {link_id}"
    if kind not in ANSWER_TYPES:
        raise _fail(where, f"type must be group or one of {sorted(ANSWER_TYPES)}, not {kind!r}")
    if not str(raw.get("text", "")).strip():
        raise _fail(where, "every item needs text")
    options: tuple[Option, ...] = ()
    if kind == "choice":
        if "answerValueSet" in raw:
            name = str(raw["answerValueSet"]).removeprefix("#")
            if name not in contained:
                raise _fail(where, f"answerValueSet #{name} is not in 'contained'")
            options = contained[name]
        else:
            options = _options(raw.get("answerOption") or [], where)
        if not options:
            raise _fail(where, "a choice item needs answer options")
    return Item(
        link_id=link_id,
        text=str(raw["text"]).strip(),
        type=kind,
        required=bool(raw.get("required", False)),
        options=options,
        group=group,
        subscale=str(raw.get("subscale", subscale)),
        min_value=raw.get("minValue"),
        max_value=raw.get("maxValue"),
        max_length=int(raw.get("maxLength", 1000)),
        enable_when=tuple(_condition(c, where) for c in raw.get("enableWhen", [])),
    )


def _flatten(raw_items: list, contained: dict, group: str, subscale: str, where: str) -> list[Item]:
    items: list[Item] = []
    for raw in raw_items:
        if not isinstance(raw, dict):
            raise _fail(where, "items must be objects")
        if raw.get("type") == "group":
            text = str(raw.get("text", "")).strip()
            items += _flatten(raw.get("item", []), contained, text or group, str(raw.get("subscale", subscale)), where)
        else:
            items.append(_item(raw, contained, group, subscale, where))
    return items


def _score_rule(raw: dict, link_ids: set[str], where: str) -> ScoreRule:
    key, method, items = raw.get("key"), raw.get("method"), tuple(raw.get("items", []))
    where = f"{where} score {key}"
    if not key or method not in SCORING_METHODS:
        raise _fail(where, f"a score needs a key and a method among {sorted(SCORING_METHODS)}")
    if not items or not set(items) <= link_ids:
        raise _fail(where, f"its items must be questions of this questionnaire: {sorted(set(items) - link_ids)}")
    if method == "value" and len(items) != 1:
        raise _fail(where, "a 'value' score takes exactly one item")
    low, high = raw.get("range", [None, None])
    if not isinstance(low, int | float) or not isinstance(high, int | float) or low > high:
        raise _fail(where, "a score needs its range [min, max]")
    bands = tuple(Band(b["min"], b["max"], b["label"]) for b in raw.get("bands", []))
    change = raw.get("change") or {}
    return ScoreRule(
        key=key,
        label=str(raw.get("label", key)),
        method=method,
        items=items,
        range=(low, high),
        bands=bands,
        higher_is_worse=bool(raw.get("higherIsWorse", False)),
        reference=raw.get("reference"),
        decimals=int(raw.get("decimals", 0)),
        change_from_baseline=change.get("from") == "baseline",
        same_answer=str(change.get("sameAnswer", "")),
        conversion={int(k): float(v) for k, v in (raw.get("conversion") or {}).items()},
    )


def parse(data: dict, *, source: str) -> Questionnaire:
    """Validate a definition and build it; raises DefinitionError naming what is wrong."""
    if not isinstance(data, dict) or data.get("resourceType") != "Questionnaire":
        raise _fail(source, 'not a questionnaire definition (resourceType must be "Questionnaire")')
    key = data.get("key", "")
    if not isinstance(key, str) or not _KEY.match(key):
        raise _fail(source, "key must be 2-40 lower-case letters, digits, - or _, starting with a letter")
    where = f"{source} ({key})"
    for required in ("url", "version", "title"):
        if not str(data.get(required, "")).strip():
            raise _fail(where, f"'{required}' is required")
    contained = {
        name: _options(raw, f"{where} contained {name}") for name, raw in (data.get("contained") or {}).items()
    }
    sections = []
    for raw in data.get("item", []):
        if raw.get("type") == "group":
            text = str(raw.get("text", "")).strip()
            items = _flatten(raw.get("item", []), contained, text, str(raw.get("subscale", "")), where)
            sections.append(Group(str(raw.get("linkId", "")), text, tuple(items)))
        else:
            sections.append(Group("", "", tuple(_flatten([raw], contained, "", "", where))))
    all_items = [i for s in sections for i in s.items]
    link_ids = [i.link_id for i in all_items]
    if not link_ids:
        raise _fail(where, "a questionnaire needs at least one question")
    if len(set(link_ids)) != len(link_ids):
        raise _fail(where, "linkIds must be unique")
    if RESERVED_LINK_IDS & set(link_ids):
        raise _fail(where, f"these linkIds are reserved for the forms: {sorted(RESERVED_LINK_IDS & set(link_ids))}")
    for item in all_items:
        for c in item.enable_when:
            if c.question not in link_ids:
                raise _fail(where, f"item {item.link_id} depends on unknown question {c.question}")
    scoring = tuple(_score_rule(r, set(link_ids), where) for r in data.get("scoring", []))
    risk = []
    for raw in data.get("risk", []):
        condition = _condition(raw, f"{where} risk")
        if condition.question not in link_ids:
            raise _fail(where, f"risk rule on unknown question {condition.question}")
        risk.append(RiskRule(condition, str(raw.get("reason") or f"Answer to question {condition.question}")))
    licence = data.get("licence") or {}
    return Questionnaire(
        key=key,
        url=str(data["url"]),
        version=str(data["version"]),
        title=str(data["title"]),
        description=str(data.get("description", "")),
        copyright=str(data.get("copyright", "")),
        licence_summary=str(licence.get("summary", "")),
        wording=str(licence.get("wording", "site")),
        sections=tuple(sections),
        scoring=scoring,
        risk=tuple(risk),
        source=source,
    )


def load_file(path: Path, *, source: str | None = None) -> Questionnaire:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(path.name, f"cannot be read as JSON: {exc}") from exc
    return parse(data, source=source or path.name)


def site_dir() -> Path:
    """Where the site's own definitions live: CONCERTO_QUESTIONNAIRE_DIR, or data/questionnaires."""
    configured = getattr(settings, "QUESTIONNAIRE_DIR", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "questionnaires"


def _site_files() -> tuple[tuple[str, int], ...]:
    directory = site_dir()
    if not directory.is_dir():
        return ()
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in directory.glob("*.json")))


_cache: dict[tuple, tuple[dict[str, Questionnaire], list[str]]] = {}


def _build(site_files: tuple[tuple[str, int], ...]) -> tuple[dict[str, Questionnaire], list[str]]:
    """Shipped definitions must load (a test guards them). A site file that does not is left out
    and reported (logged, and shown on the questionnaire pages) rather than stopping every page
    that shows a score; `load_questionnaire` refuses such files before they get here."""
    found = {q.key: q for q in (load_file(p, source="shipped") for p in sorted(SHIPPED_DIR.glob("*.json")))}
    problems = []
    for name, _ in site_files:
        try:
            site = load_file(Path(name), source=f"site file {Path(name).name}")
            check_replacement(found.get(site.key), site)
        except DefinitionError as exc:
            logger.error("questionnaire definition not loaded: %s", exc)
            problems.append(str(exc))
            continue
        found[site.key] = site
    return found, problems


def check_replacement(shipped: Questionnaire | None, site: Questionnaire) -> None:
    """A site may replace a shipped definition's wording, never its questions or values."""
    if shipped is not None and shipped.source == "shipped" and shipped.shape != site.shape:
        raise _fail(
            site.source,
            f"replaces the shipped {shipped.title} but its questions or answer values differ; "
            "keep the same linkIds, types and values (only the wording may change)",
        )


def all_questionnaires() -> dict[str, Questionnaire]:
    """Every questionnaire by key: shipped, then the site's. Re-read when a site file changes."""
    return _loaded()[0]


def site_problems() -> list[str]:
    """Why any of the site's files was not loaded (file name and problem)."""
    return _loaded()[1]


def _loaded() -> tuple[dict[str, Questionnaire], list[str]]:
    files = _site_files()
    if files not in _cache:
        _cache.clear()
        _cache[files] = _build(files)
    return _cache[files]


def get(key: str) -> Questionnaire:
    try:
        return all_questionnaires()[key]
    except KeyError:
        raise InvalidInput(f"There is no questionnaire called {key!r}.") from None


def resolve(questionnaire: Questionnaire | str) -> Questionnaire:
    return get(questionnaire) if isinstance(questionnaire, str) else questionnaire


# Shipped questionnaires first, in the order the Community Mental Health Framework names them.
DISPLAY_ORDER = ["dialog", "gbo", "phq9", "gad7"]


def in_display_order(keys) -> list[str]:
    """Questionnaire keys as pages list them: the shipped ones in a fixed order, then the site's by key."""
    return sorted(keys, key=lambda k: (DISPLAY_ORDER.index(k) if k in DISPLAY_ORDER else len(DISPLAY_ORDER), k))
