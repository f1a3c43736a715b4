"""load -> chunk -> embed -> store: idempotent, content-addressed, crash-safe, with a progress bar."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from langchain_core.embeddings import Embeddings

from assistant.chunk import chunk_document
from assistant.load import SUPPORTED, LoadError, iter_files, load_file
from assistant.settings import Settings
from assistant.store import DocRecord, Store
from assistant.tokens import count_tokens
from assistant.types import Document, IngestReport

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
CHUNKER_VERSION = "sent-v1"
BATCH_CHARS = 40_000  # documents are embedded and committed in groups of about this much text


def chunker_id(settings: Settings) -> str:
    """Identifies the chunking rules; a change re-chunks every document."""
    return f"{CHUNKER_VERSION}/{settings.chunk_tokens}/{settings.chunk_overlap}"


def index_documents(docs: Sequence[Document], store: Store, embedder: Embeddings, settings: Settings) -> int:
    """Chunk, embed and commit documents together (one embedding pass, one commit); returns chunks written.

    Order is the crash-safety protocol: chunks first (invisible until committed), then the
    document records (the commit point), then stale chunks of older versions are swept.
    """
    if not docs:
        return 0
    chunked = [(doc, chunk_document(doc, settings.chunk_tokens, settings.chunk_overlap, count_tokens)) for doc in docs]
    texts = [f"{doc.title}\n{c.text}" for doc, chunks in chunked for c in chunks]
    vectors = embedder.embed_documents(texts)
    at = 0
    for doc, chunks in chunked:
        store.upsert_chunks(doc.content_hash, chunks, vectors[at : at + len(chunks)], {"title": doc.title, "source": doc.source})
        at += len(chunks)
    store.commit_docs(
        [
            (
                DocRecord(
                    doc_id=doc.doc_id,
                    content_hash=doc.content_hash,
                    n_chunks=len(chunks),
                    title=doc.title,
                    source=doc.source,
                    chunker=chunker_id(settings),
                    metadata=dict(doc.metadata),
                ),
                doc.text,
            )
            for doc, chunks in chunked
        ]
    )
    return at


def sweep_orphans(store: Store) -> int:
    """Delete chunks that belong to no committed document version (left by a crash)."""
    records = store.records()
    expected = sum(r.n_chunks for r in records.values())
    if store.count_chunks() == expected:
        return 0
    orphans = [
        c.chunk_id
        for c in store.iter_chunks()
        if c.doc_id not in records or records[c.doc_id].content_hash != c.doc_hash
    ]
    store.delete_chunks(orphans)
    if orphans:
        log.info("removed %d orphan chunks left by an interrupted ingest", len(orphans))
    return len(orphans)


def ingest(
    paths: Iterable[Path],
    store: Store,
    embedder: Embeddings,
    settings: Settings,
    *,
    prune: bool = False,
    progress: Progress | None = None,
    show_progress: bool | None = None,
) -> IngestReport:
    """Bring the store in line with the given files and folders.

    Unchanged documents are skipped, changed ones replaced in one commit, bad files
    reported in `skipped` with their reason. With `prune`, documents that vanished from
    the given folders are removed.
    """
    from tqdm import tqdm

    paths = [Path(p) for p in paths]
    report = IngestReport()
    sweep_orphans(store)
    records = store.records()
    by_hash = {r.content_hash: r.doc_id for r in records.values()}
    files = list(iter_files(paths))
    seen: set[str] = set()
    pending: list[Document] = []
    pending_bytes = 0
    hide = not _is_tty() if show_progress is None else not show_progress
    bar = tqdm(total=len(files), unit="file", desc="ingest", disable=hide)
    for done, (path, root) in enumerate(files, start=1):
        bar.set_postfix_str(path.name[:40])
        if progress:
            progress(done - 1, len(files), path.name)
        if path.suffix.lower() not in SUPPORTED and root != path.parent:
            bar.update(1)
            continue  # folders may hold other files; only named files are reported
        try:
            doc = load_file(path, root, max_bytes=settings.max_file_bytes)
        except LoadError as exc:
            report.skipped.append({"path": str(path), "reason": str(exc)})
            bar.update(1)
            continue
        except OSError as exc:
            report.skipped.append({"path": str(path), "reason": f"cannot read: {exc.strerror or exc}"})
            bar.update(1)
            continue
        twin = by_hash.get(doc.content_hash)
        if twin is not None and twin != doc.doc_id:
            twin_record = records.get(twin)
            if twin in seen or (twin_record is not None and Path(twin_record.source).exists()):
                report.skipped.append({"path": str(path), "reason": f"duplicate of already ingested '{twin}'"})
                bar.update(1)
                continue
            store.remove_doc(twin)  # the file was renamed: drop the old name
            report.removed += 1
        seen.add(doc.doc_id)
        current = records.get(doc.doc_id)
        if current and current.content_hash == doc.content_hash and current.chunker == chunker_id(settings):
            report.unchanged += 1
            bar.update(1)
        else:
            if current:
                by_hash.pop(current.content_hash, None)
                report.updated += 1
            else:
                report.added += 1
            by_hash[doc.content_hash] = doc.doc_id
            pending.append(doc)
            pending_bytes += len(doc.text)
            if pending_bytes >= BATCH_CHARS:
                index_documents(pending, store, embedder, settings)
                bar.update(len(pending))
                pending, pending_bytes = [], 0
    index_documents(pending, store, embedder, settings)
    bar.update(len(pending))
    bar.close()
    if progress:
        progress(len(files), len(files), "done")
    if prune:
        folders = [p.resolve() for p in paths if p.is_dir()]
        for record in list(store.records().values()):
            source = Path(record.source).resolve()
            if record.doc_id not in seen and any(source.is_relative_to(f) for f in folders):
                store.remove_doc(record.doc_id)
                report.removed += 1
    report.chunks_total = store.count_chunks()
    return report


def _is_tty() -> bool:
    import sys

    return sys.stderr.isatty()
