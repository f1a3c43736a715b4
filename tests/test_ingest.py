"""Ingest against real Chroma (embedded folder and a `chroma run` server) with the real model."""

from pathlib import Path

import pytest

from assistant.store import EmbeddingModelMismatch


def test_ingest_is_idempotent_and_replaces_changed_chunks(make_assistant, backend, corpus_copy: Path) -> None:
    bot = make_assistant(corpus_dir=corpus_copy, **backend)
    first = bot.ingest()
    assert (first.added, first.updated, first.unchanged) == (1, 0, 0)
    assert first.chunks_total > 5
    again = bot.ingest()
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)
    assert again.chunks_total == first.chunks_total, "re-ingest adds 0 chunks"

    seed = next(corpus_copy.glob("*.md"))
    old_ids = {c.chunk_id for c in bot.store.iter_chunks()}
    seed.write_text(seed.read_text(encoding="utf-8") + "\n\nThe envoys later flew to Istanbul for a second meeting.\n")
    changed = bot.ingest()
    assert changed.updated == 1
    new = list(bot.store.iter_chunks())
    record = bot.store.records()[new[0].doc_id]
    assert all(c.doc_hash == record.content_hash for c in new), "no stale chunks left"
    assert len(new) == record.n_chunks == changed.chunks_total
    assert not old_ids & {c.chunk_id for c in new}, "every chunk of the edited article was replaced"
    ans = bot.answer("Where did the envoys fly for a second meeting?")
    assert "Istanbul" in ans.text


def test_bad_files_are_skipped_and_the_rest_ingest(make_assistant, backend, corpus_copy: Path) -> None:
    (corpus_copy / "empty.md").write_text("")
    (corpus_copy / "blob.txt").write_bytes(b"\x00\x01\x02" * 300)
    (corpus_copy / "copy.md").write_bytes(next(corpus_copy.glob("putin*.md")).read_bytes())
    bot = make_assistant(corpus_dir=corpus_copy, **backend)
    report = bot.ingest()
    assert report.added == 1
    reasons = {Path(s["path"]).name: s["reason"] for s in report.skipped}
    assert reasons["empty.md"] == "empty file"
    assert "binary" in reasons["blob.txt"]
    duplicates = [name for name, reason in reasons.items() if reason.startswith("duplicate of already ingested")]
    assert len(duplicates) == 1, reasons
    assert len(bot.store.records()) == 1, "the same article under two names is stored once"


def test_prune_removes_vanished_documents(make_assistant, backend, corpus_copy: Path) -> None:
    extra = corpus_copy / "harbour.md"
    extra.write_text("---\ntitle: Harbour news\n---\n\nThe harbour master retired after thirty years of service.\n")
    bot = make_assistant(corpus_dir=corpus_copy, **backend)
    bot.ingest()
    assert "harbour.md" in bot.store.records()
    extra.unlink()
    kept = bot.ingest()
    assert kept.removed == 0 and "harbour.md" in bot.store.records()
    pruned = bot.ingest(prune=True)
    assert pruned.removed == 1
    assert "harbour.md" not in bot.store.records()
    assert all(c.doc_id != "harbour.md" for c in bot.store.iter_chunks())


def test_collection_refuses_another_embedding_model(make_assistant, backend, embedder) -> None:
    from assistant import Assistant
    from assistant.store import Store

    bot = make_assistant(**backend)
    bot.ingest()
    store = Store(bot.settings)
    with pytest.raises(EmbeddingModelMismatch, match="assistant ingest --rebuild"):
        store.open("openai:text-embedding-3-small")
    rebuilt = Assistant(bot.settings, embedder=embedder)
    rebuilt.rebuild()
    assert rebuilt.store.count_chunks() == 0


def test_interrupted_ingest_leaves_no_visible_half_document(make_assistant, corpus_copy: Path) -> None:
    """Chunks written without their commit are invisible, then swept by the next ingest."""
    from assistant.chunk import chunk_document
    from assistant.load import load_file
    from assistant.tokens import count_tokens

    bot = make_assistant(corpus_dir=corpus_copy)
    bot.ingest()
    seed = next(corpus_copy.glob("*.md"))
    seed.write_text(seed.read_text(encoding="utf-8") + "\n\nA late paragraph about a summit in Geneva.\n")
    doc = load_file(seed, corpus_copy)
    chunks = chunk_document(doc, bot.settings.chunk_tokens, bot.settings.chunk_overlap, count_tokens)
    half = chunks[: len(chunks) // 2]
    vectors = bot.embedder.embed_documents([c.text for c in half])
    bot.store.upsert_many([(doc.content_hash, c, v, {}) for c, v in zip(half, vectors)])
    # A crash here: half of the new version is stored but not committed.
    passages = bot.retriever.search("summit in Geneva", 10)
    assert all(p.chunk_id not in {c.chunk_id for c in half} for p in passages)
    report = bot.ingest()
    assert report.updated == 1
    record = bot.store.records()[doc.doc_id]
    assert bot.store.count_chunks() == record.n_chunks == len(chunks)


def test_document_records_cache_follows_the_store_revision(make_assistant, backend, tmp_path: Path) -> None:
    """Records are cached on disk per revision: a commit by another process is seen, a corrupt cache is ignored."""
    from benchmarks.corpus_gen import generate

    corpus = tmp_path / "articles"
    generate(corpus, 4)
    reader = make_assistant(corpus_dir=corpus, **backend)
    writer = make_assistant(corpus_dir=corpus, **backend)
    writer.ingest(show_progress=False)
    assert len(reader.store.records()) == 4
    cache = reader.store._records_file()
    assert cache.exists()
    generate(corpus, 6)
    writer.ingest(show_progress=False)
    assert len(reader.store.records()) == 6, "a commit elsewhere changes the revision and refreshes the cache"
    cache.write_text("{not json", encoding="utf-8")
    fresh = make_assistant(corpus_dir=corpus, **backend)
    assert fresh.store.records() == writer.store.records()
