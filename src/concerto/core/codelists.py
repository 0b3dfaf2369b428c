"""Code lists (SNOMED CT and dm+d): CSV files `code,term[,…]` with a name, version and source.

The lists the product needs ship in `concerto/codelists/` with `manifest.csv` recording each
list's source repository, commit and licence. A site adds its own lists (for example
smoking-cessation referral codes, for which no public list exists) by pointing
`CONCERTO_EXTRA_CODELISTS` at a folder with its own `manifest.csv` and CSV files.

Reading a list from files is cheap and cached; `load_codelists` (in actions) copies them into
the database so that SQL (the register, analytics on the live database) can join on them.
"""

import csv
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

from concerto.core.errors import InvalidInput

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "codelists"
MANIFEST_COLUMNS = ("name", "file", "system", "version", "description")
SYSTEMS = ("snomed-ct", "dmd")


@dataclass(frozen=True)
class Code:
    code: str
    term: str
    cluster: str = ""


@dataclass(frozen=True)
class CodeList:
    name: str
    system: str
    version: str
    description: str
    source: str
    licence: str
    codes: tuple[Code, ...] = field(repr=False)

    @functools.cached_property
    def code_set(self) -> frozenset[str]:
        return frozenset(c.code for c in self.codes)

    def cluster(self, cluster_id: str) -> tuple[Code, ...]:
        """The codes of one PCD cluster (e.g. LSMOK_COD) within a multi-cluster list."""
        found = tuple(c for c in self.codes if c.cluster == cluster_id)
        if not found:
            raise KeyError(f"code list {self.name} has no cluster {cluster_id}")
        return found

    def __contains__(self, code: object) -> bool:
        return code in self.code_set


def _read_codes(path: Path) -> tuple[Code, ...]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"code", "term"} <= set(reader.fieldnames):
            raise InvalidInput(f"{path.name}: a code list must start with columns code,term")
        cluster_column = next(
            (c for c in ("cluster_id", "group", "component", "category") if c in reader.fieldnames),
            None,
        )
        codes = []
        for line, row in enumerate(reader, start=2):
            code = (row["code"] or "").strip()
            if not (code.isascii() and code.isdigit()):
                raise InvalidInput(f"{path.name} line {line}: code {code!r} is not a SNOMED CT/dm+d identifier")
            codes.append(
                Code(
                    code=code,
                    term=(row["term"] or "").strip(),
                    cluster=(row.get(cluster_column) or "").strip() if cluster_column else "",
                )
            )
    if not codes:
        raise InvalidInput(f"{path.name}: the code list is empty")
    return tuple(codes)


def read_manifest(folder: Path) -> dict[str, CodeList]:
    manifest = folder / "manifest.csv"
    if not manifest.exists():
        raise InvalidInput(f"{folder}: no manifest.csv (columns {', '.join(MANIFEST_COLUMNS)})")
    lists = {}
    with manifest.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = set(MANIFEST_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise InvalidInput(f"{manifest}: missing columns {', '.join(sorted(missing))}")
        for row in reader:
            if row["system"] not in SYSTEMS:
                raise InvalidInput(f"{manifest}: {row['name']} has unknown system {row['system']!r}")
            source = " ".join(filter(None, [row.get("source_repo"), row.get("source_path"), row.get("commit")]))
            lists[row["name"]] = CodeList(
                name=row["name"],
                system=row["system"],
                version=row["version"],
                description=row["description"],
                source=source,
                licence=row.get("licence", ""),
                codes=_read_codes(folder / row["file"]),
            )
    return lists


@functools.cache
def all_codelists() -> dict[str, CodeList]:
    """Shipped lists, then a site's own (which may add lists or replace a shipped one by name)."""
    lists = read_manifest(SHIPPED_DIR)
    extra = os.environ.get("CONCERTO_EXTRA_CODELISTS")
    if extra:
        lists |= read_manifest(Path(extra))
    return lists


def get(name: str) -> CodeList:
    try:
        return all_codelists()[name]
    except KeyError:
        raise KeyError(f"no code list named {name!r}; known: {', '.join(sorted(all_codelists()))}") from None
