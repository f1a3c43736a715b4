"""The persisted, incremental BM25 index: kept in step with the store's commits, never rebuilt on start."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant import bm25 as bm25_module
from assistant.bm25 import Bm25Index, Row
from benchmarks.corpus_gen import generate


def rows(*texts: str, doc: str = "d", version: str = "h") -> list[Row]:
    return [Row(f"{doc}-{i}", (doc, version, "c"), t) for i, t in enumerate(texts)]


def test_ranking_prefers_rare_terms_and_repeated_terms() -> None:
    index = Bm25Index(None)
    index.add(rows("the harbour crane broke", "harbour fees rose", "harbour crane crane crane", "a quiet harbour"))
    index.sync({"d": ("d", "h", "c")}, lambda ids: [])
    ids = [cid for cid, _ in index.search("harbour crane", 4)]
    assert ids[:2] == ["d-2", "d-0"], "the rare term decides, and repeating it helps"
    assert set(ids) == {"d-0", "d-1", "d-2", "d-3"}
    assert index.search("volcano", 4) == []


def test_only_the_committed_version_counts() -> None:
    index = Bm25Index(None)
    index.add(rows("old text about ferries", doc="a", version="v1") + rows("new text about trams", doc="a", version="v2"))
    index.sync({"a": ("a", "v2", "c")}, lambda ids: [])
    assert [c for c, _ in index.search("ferries", 5)] == []
    assert [c for c, _ in index.search("trams", 5)] == ["a-0"]
    assert len(index) == 1


def test_compaction_keeps_scores_and_drops_dead_rows(tmp_path: Path) -> None:
    index = Bm25Index(tmp_path / "idx")
    wanted = {}
    for n in range(bm25_module.MAX_SEGMENTS):
        doc = f"doc{n}"
        index.add(rows(f"budget vote number {n} in the council", f"the mayor spoke {n}", doc=doc))
        wanted[doc] = (doc, "h", "c")
    index.sync(wanted, lambda ids: [])
    before = index.search("council budget mayor", 20)
    assert len(list((tmp_path / "idx").glob("*.npz"))) == bm25_module.MAX_SEGMENTS
    index.add(rows("a late budget story", doc="late"))  # one segment too many: merged
    wanted["late"] = ("late", "h", "c")
    del wanted["doc0"]
    index.sync(wanted, lambda ids: [])
    assert len(list((tmp_path / "idx").glob("*.npz"))) == 1
    after = dict(index.search("council budget mayor", 20))
    assert "doc0-0" not in after and "late-0" in after
    reopened = Bm25Index(tmp_path / "idx")
    reopened.sync(wanted, lambda ids: [])
    assert reopened.search("council budget mayor", 20) == index.search("council budget mayor", 20)
    assert len(before) == 2 * bm25_module.MAX_SEGMENTS


def test_ingest_persists_the_index_and_a_restart_fetches_nothing(make_assistant, backend, tmp_path: Path) -> None:
    corpus = tmp_path / "articles"
    generate(corpus, 12)
    bot = make_assistant(corpus_dir=corpus, **backend)
    bot.ingest(show_progress=False)
    assert bot.retriever.sync() == 0, "ingest already indexed what it committed"
    question = "Which councillor rejected the claim about smaller towns?"
    expected = bot.retriever.bm25(question, 10)
    assert expected

    restarted = make_assistant(corpus_dir=corpus, **backend)
    assert restarted.retriever.sync() == 0, "a restart reads the index from disk instead of the store"
    assert restarted.retriever.bm25(question, 10) == expected

    shutil.rmtree(restarted.bm25.folder)  # type: ignore[arg-type]
    rebuilt = make_assistant(corpus_dir=corpus, **backend)
    assert rebuilt.retriever.sync() == restarted.store.count_chunks(), "a lost index is rebuilt from the store"
    assert rebuilt.retriever.bm25(question, 10) == expected


def test_edits_and_removals_update_the_index_incrementally(make_assistant, tmp_path: Path) -> None:
    corpus = tmp_path / "articles"
    generate(corpus, 6)
    bot = make_assistant(corpus_dir=corpus)
    bot.ingest(show_progress=False)
    bot.retriever.sync()
    live = len(bot.bm25)
    first, second = sorted(corpus.glob("*.md"))[:2]
    first.write_text(first.read_text(encoding="utf-8") + "\n\nThe zeppelin hangar reopened on Friday.\n", encoding="utf-8")
    second.unlink()
    bot.ingest(prune=True, show_progress=False)
    assert bot.retriever.sync() == 0
    hits = bot.retriever.bm25("zeppelin hangar", 5)
    assert hits and all(c.doc_id == first.name for c in bot.store.get_chunks(hits))
    assert len(bot.bm25) == bot.store.count_chunks() < live + 2


def test_documents_committed_without_the_index_are_caught_up(make_assistant, tmp_path: Path) -> None:
    """A crash between a commit and the index update leaves the index behind, never wrong."""
    from assistant.ingest import ingest

    corpus = tmp_path / "articles"
    generate(corpus, 8)
    bot = make_assistant(corpus_dir=corpus)
    files = sorted(corpus.glob("*.md"))
    bot.ingest(files[:5], show_progress=False)
    ingest(files[5:], bot.store, bot.embedder, bot.settings, show_progress=False)  # index not told
    behind = sum(r.n_chunks for d, r in bot.store.records().items() if d in {f.name for f in files[5:]})
    assert bot.retriever.sync() == behind
    assert len(bot.bm25) == bot.store.count_chunks()
