"""The eval gate catches the regressions we fear: each is planted in-process, then `assistant eval --check-baseline`
(the CLI's main, in-process, on every gated set of evals/baseline.json) must exit non-zero and say why.

The un-planted code must pass the same gate. The embedded model is real; a memo in front of it only saves
re-embedding the same texts across the runs of this module (the model is deterministic).
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "evals" / "baseline.json"


class MemoEmbeddings(Embeddings):
    """The real embedder, remembering every vector it made (same text, same vector)."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.name = str(getattr(inner, "name", type(inner).__name__))
        self._docs: dict[str, list[float]] = {}
        self._queries: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._docs]
        if missing:
            self._docs.update(zip(missing, self.inner.embed_documents(missing)))
        return [self._docs[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        if text not in self._queries:
            self._queries[text] = self.inner.embed_query(text)
        return self._queries[text]


def run_gate(report: Path | str, *extra: str) -> tuple[int, str]:
    """`assistant eval --check-baseline` in-process from the repository root: (exit code, printed output)."""
    import os

    from assistant.cli import main

    out = io.StringIO()
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            code = main(["eval", "--check-baseline", "--report", str(report), *extra])
    finally:
        os.chdir(here)
    return code, out.getvalue()


# -- the regressions we fear ------------------------------------------------------------------------------


def _bm25_off(mp: pytest.MonkeyPatch) -> None:
    mp.setattr("assistant.retrieve.Retriever.bm25", lambda self, question, n, *args, **kwargs: [])


def _embeddings_off(mp: pytest.MonkeyPatch) -> None:
    """No dense retrieval and no embedding signal in the answerer."""
    mp.setattr("assistant.retrieve.Retriever.dense", lambda self, question, n, *args, **kwargs: [])
    from assistant.answer import Assistant

    mp.setattr(Assistant, "sentence_similarity", lambda self, question, sentences: [0.0 for _ in sentences])


def _judge_always_supported(mp: pytest.MonkeyPatch) -> None:
    mp.setattr("assistant.judge.supports", lambda sentence, passage: True)


def _always_refusing(mp: pytest.MonkeyPatch) -> None:
    """Every answer becomes the answerer's refusal (planted at the public `Assistant.answer` seam)."""
    from dataclasses import replace

    from assistant import extractive
    from assistant.answer import Assistant

    real = Assistant.answer

    def refuse(self: Any, question: str, *args: Any, **kwargs: Any) -> Any:
        a = real(self, question, *args, **kwargs)
        return replace(a, text=extractive.refusal(question, a.passages), citations=[], refused=True)

    mp.setattr(Assistant, "answer", refuse)


def _chunks_twice_the_default(mp: pytest.MonkeyPatch) -> None:
    mp.setenv("ASSISTANT_CHUNK_TOKENS", str(2 * Settings().chunk_tokens))


PLANTS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "bm25_off": _bm25_off,
    "embeddings_off": _embeddings_off,
    "judge_always_supported": _judge_always_supported,
    "always_refusing": _always_refusing,
    "chunks_twice_the_default": _chunks_twice_the_default,
}

# For each plant, figures of which at least one must fail (measured: evals/README.md lists every figure that
# failed). `*` matches any pair file of the judge set.
CAUGHT_BY = {
    "bm25_off": ["golden.passage_hit_at_1", "dev.hit_at_1", "dev.mrr_at_10"],
    "embeddings_off": ["golden.passage_hit_at_1", "golden.passage_mrr_at_10", "dev.hit_at_5"],
    "judge_always_supported": ["judge.*.precision"],
    "always_refusing": ["golden.answer_accuracy", "dev.answer_accuracy"],
    "chunks_twice_the_default": ["golden.answer_accuracy", "golden.quote_has_answer", "dev.quote_has_answer"],
}


@pytest.fixture(scope="module")
def memo(embedder: Embeddings) -> MemoEmbeddings:
    return MemoEmbeddings(embedder)


@pytest.fixture
def real_model(memo: MemoEmbeddings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The gate's runs use the session's real embedded model (through the memo) instead of loading their own."""
    monkeypatch.setattr("assistant.embed.make_embeddings", lambda settings: memo)
    yield


def _baseline_sets() -> list[str]:
    return list(json.loads(BASELINE.read_text(encoding="utf-8"))["sets"])


def test_the_unplanted_code_passes_the_gate(real_model: None, tmp_path: Path) -> None:
    code, out = run_gate(tmp_path)
    assert code == 0, out
    assert f"baseline check: passed ({len(_baseline_sets())} sets)" in out
    assert {"golden", "dev", "multi", "judge"} <= set(_baseline_sets())
    for name in _baseline_sets():
        if name != "judge":
            assert (tmp_path / name / "report.png").is_file() and (tmp_path / name / "report.md").is_file()


@pytest.mark.parametrize("plant", list(PLANTS))
def test_a_planted_regression_fails_the_gate(
    plant: str, real_model: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    PLANTS[plant](monkeypatch)
    code, out = run_gate(tmp_path)
    failed = [line.removeprefix("REGRESSION ") for line in out.splitlines() if line.startswith("REGRESSION ")]
    print(f"{plant}:", *failed, sep="\n  ")
    assert code == 1 and "baseline check: FAILED" in out, out
    names = [f.split(": ")[0] for f in failed]
    assert any(fnmatch.fnmatchcase(n, pattern) for n in names for pattern in CAUGHT_BY[plant]), (CAUGHT_BY[plant], failed)
