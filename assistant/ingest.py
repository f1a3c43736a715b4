"""load -> chunk -> embed -> store: idempotent, content-addressed, crash-safe, with a progress bar."""

from __future__ import annotations

import dataclasses
import functools
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from assistant import aliases
from assistant.aliases import NAMES_KEY
from assistant.bm25 import Bm25Index, Row
from assistant.chunk import chunk_document
from assistant.dates import date_int
from assistant.load import SUPPORTED, LoadError, iter_files, load_file
from assistant.neardup import NearDupIndex, originals
from assistant.progress import LineProgress
from assistant.settings import Settings
from assistant.store import DocRecord, Store
from assistant.tokens import count_tokens
from assistant.types import Chunk, Document, IngestReport

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
CHUNKER_VERSION = "sent-v2"  # v2: chunks carry outlet and date (yyyymmdd) metadata for filters
BM25_ROWS = 20_000  # committed chunks are added to the BM25 index in segments of about this many
UPLOADS = "uploads/"  # id prefix of documents uploaded through the web chat: never a corpus document's id


def upload_id(path: Path, settings: Settings) -> str | None:
    """`uploads/<name>` for a file kept in the uploads folder, else None (a corpus file)."""
    try:
        return UPLOADS + path.resolve().relative_to(settings.uploads_dir.resolve()).as_posix()
    except ValueError:
        return None


def is_upload(record: DocRecord, settings: Settings) -> bool:
    """Whether a stored document came from the web chat's uploads (prune never removes those)."""
    return record.doc_id.startswith(UPLOADS) and upload_id(Path(record.source), settings) == record.doc_id


def chunker_id(settings: Settings) -> str:
    """Identifies the chunking rules; a change re-chunks every document."""
    return f"{CHUNKER_VERSION}/{settings.chunk_tokens}/{settings.chunk_overlap}"


Chunked = tuple[Document, list[Chunk]]


def indexed_text(doc: Document, chunk: Chunk) -> str:
    """The text a chunk is embedded and BM25-indexed as: its article's title, then the chunk."""
    return f"{doc.title}\n{chunk.text}"


def _off_main_thread(fn: Callable[[threading.Event], list[list[float]]]) -> list[list[float]]:
    """Run `fn(stop)` on a helper thread while the main thread waits, so Ctrl-C is handled at once.

    Python runs a signal handler only between bytecodes of the main thread: during one long C call
    (an embedding batch: 0.6-1.7 s on a loaded 2-core machine) Ctrl-C would wait for it to return.
    On Ctrl-C, `stop` is set and the helper ends after its current batch; nothing of it is written.
    """
    out: list[list[list[float]]] = []
    failed: list[BaseException] = []
    stop = threading.Event()
    done = threading.Event()

    def run() -> None:
        try:
            out.append(fn(stop))
        except BaseException as exc:  # re-raised in the caller
            failed.append(exc)
        finally:
            done.set()

    # not a daemon: the process exits once the batch returns (onnxruntime aborts if torn down under one)
    threading.Thread(target=run, name="ingest-embed").start()
    try:
        while not done.wait(0.05):  # a short wait: the handler runs between waits whatever the platform
            pass
    except BaseException:
        stop.set()
        raise
    if failed:
        raise failed[0]
    return out[0]


class _Stopped(Exception):
    """The embedding was abandoned (Ctrl-C)."""


def embed_chunks(chunked: Sequence[Chunked], embedder: Embeddings, stop: threading.Event | None = None) -> list[list[float]]:
    """One embedding pass over every chunk (the title prefixed, as BM25 sees it too).

    With `stop`, texts go to the embedder one batch at a time (sorted by length, as it would batch
    them) and the pass ends early once `stop` is set.
    """
    texts = [indexed_text(doc, c) for doc, chunks in chunked for c in chunks]
    size = getattr(embedder, "batch_size", None)
    if stop is None or not isinstance(size, int):
        return embedder.embed_documents(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[list[float]] = [[] for _ in texts]
    for at in range(0, len(order), size):
        if stop.is_set():
            raise _Stopped
        part = order[at : at + size]
        for i, vector in zip(part, embedder.embed_documents([texts[i] for i in part])):
            out[i] = vector
    return out


def write_documents(
    chunked: Sequence[Chunked], vectors: Sequence[Sequence[float]], store: Store, settings: Settings
) -> int:
    """Store chunks and commit their documents; returns chunks written.

    Order is the crash-safety protocol: chunks first (invisible until committed), then the
    document records (the commit point), then stale chunks of older versions are swept.
    """
    if not chunked:
        return 0
    items = [(doc.content_hash, c, chunk_metadata(doc)) for doc, chunks in chunked for c in chunks]
    store.upsert_many([(h, c, v, extra) for (h, c, extra), v in zip(items, vectors)])
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
                    metadata={**doc.metadata, NAMES_KEY: aliases.to_text(aliases.name_phrases([doc.text]))},
                ),
                doc.text,
            )
            for doc, chunks in chunked
        ]
    )
    return len(items)


def chunk_metadata(doc: Document) -> dict[str, str | int]:
    """What every chunk of a document carries besides its position: title, source, outlet and date for filters."""
    meta: dict[str, str | int] = {"title": doc.title, "source": doc.source}
    if doc.metadata.get("outlet"):
        meta["outlet"] = doc.metadata["outlet"]
    day = date_int(doc.metadata.get("date"))
    if day is not None:
        meta["date"] = day
    return meta


def bm25_rows(chunked: Sequence[Chunked], settings: Settings) -> list[Row]:
    """The rows the BM25 index keeps for committed documents."""
    return [
        Row(c.chunk_id, (doc.doc_id, doc.content_hash, chunker_id(settings)), indexed_text(doc, c))
        for doc, chunks in chunked
        for c in chunks
    ]


class _Writer:
    """Runs store writes in order on one thread, so they overlap with embedding the next group.

    At most `depth` groups wait; an error stops the queue and is raised to the caller at the
    next submit or at close. Crash safety is unchanged: each group is committed as a whole.
    """

    def __init__(self, depth: int = 2) -> None:
        self._queue: queue.Queue[Callable[[], object] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._cancel = False
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (task := self._queue.get()) is not None:
            if self._error is None and not self._cancel:
                try:
                    task()
                except BaseException as exc:  # handed to the caller
                    self._error = exc

    def submit(self, task: Callable[[], object]) -> None:
        self._raise()
        self._queue.put(task)

    def close(self, *, cancel: bool = False) -> None:
        """Wait for queued writes (or, with cancel, only the one running) and re-raise a write error."""
        self._cancel = cancel
        self._queue.put(None)
        self._thread.join()
        if not cancel:
            self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


Loaded = tuple[Path, "Document | str | None", "list[Chunk] | None"]


def _load_ahead(
    files: Sequence[tuple[Path, Path]], records: dict[str, DocRecord], settings: Settings, depth: int = 64
) -> Iterator[Loaded]:
    """Parse and chunk files on a thread, ahead of the embedding: yields (path, doc or error, chunks).

    `doc` is None for a file ingest ignores, a string for a load error; `chunks` is None
    when the committed version is already current.
    """
    out: queue.Queue[Loaded | None] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    failed: list[BaseException] = []

    def work() -> None:
        try:
            for path, root in files:
                if stop.is_set():
                    return
                out.put(_load_one(path, root, records, settings))
        except BaseException as exc:  # re-raised in the caller: never end the ingest early in silence
            failed.append(exc)
        finally:
            out.put(None)

    thread = threading.Thread(target=work, name="ingest-loader", daemon=True)
    thread.start()
    try:
        while (item := out.get()) is not None:
            yield item
        if failed:
            raise failed[0]
    finally:
        stop.set()
        while thread.is_alive():  # unblock a loader waiting on a full queue
            try:
                out.get(timeout=0.1)
            except queue.Empty:
                pass


def _load_one(path: Path, root: Path, records: dict[str, DocRecord], settings: Settings) -> Loaded:
    if path.suffix.lower() not in SUPPORTED and root != path.parent:
        return path, None, None  # folders may hold other files; only named files are reported
    try:
        doc = load_file(path, root, max_bytes=settings.max_file_bytes)
        uploaded = upload_id(path, settings)
        if uploaded is not None:
            doc = dataclasses.replace(doc, doc_id=uploaded)
    except LoadError as exc:
        return path, str(exc), None
    except OSError as exc:
        return path, f"cannot read: {exc.strerror or exc}", None
    current = records.get(doc.doc_id)
    if current and current.content_hash == doc.content_hash and current.chunker == chunker_id(settings):
        return path, doc, None
    return path, doc, chunk_document(doc, settings.chunk_tokens, settings.chunk_overlap, count_tokens)


def sweep_orphans(store: Store) -> int:
    """Delete chunks that belong to no committed document version (left by a crash)."""
    records = store.records(fresh=True)
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
    bm25: Bm25Index | None = None,
    near: NearDupIndex | None = None,
) -> IngestReport:
    """Bring the store in line with the given files and folders.

    Unchanged documents are skipped, changed ones replaced in one commit, bad files
    reported in `skipped` with their reason. With `prune`, documents that vanished from
    the given folders are removed. Files are parsed and chunked on one thread and written
    on another while the main thread embeds; committed documents are added to `bm25`.
    With `near`, a document that is a near duplicate of a stored one is kept as its copy.
    """
    from tqdm import tqdm

    paths = [Path(p) for p in paths]
    report = IngestReport()
    sweep_orphans(store)
    records = store.records()
    if near is not None:
        near.sync(originals(records.values()), store.doc_texts)
    by_hash = {r.content_hash: r.doc_id for r in records.values()}
    files = list(iter_files(paths))
    seen: set[str] = set()
    pending: list[Chunked] = []
    pending_chars = 0
    rows: list[Row] = []
    bar: Any  # a tqdm bar on a terminal; without one (cron, CI, a pipe) a plain line at most every 10 s
    if show_progress is None and not _is_tty():
        bar = LineProgress(len(files))
    else:
        bar = tqdm(total=len(files), unit="file", desc="ingest", disable=show_progress is False)
    writer = _Writer()

    def write(chunked: list[Chunked], vectors: list[list[float]]) -> None:
        written = write_documents(chunked, vectors, store, settings)
        if isinstance(bar, LineProgress):
            bar.update(len(chunked), chunks=written)
        else:
            bar.update(len(chunked))
        if bm25 is not None:
            rows.extend(bm25_rows(chunked, settings))
            if len(rows) >= BM25_ROWS:
                bm25.add(rows)
                rows.clear()

    def flush() -> None:
        if pending:
            group = list(pending)
            vectors = _off_main_thread(functools.partial(embed_chunks, group, embedder))
            writer.submit(lambda: write(group, vectors))

    try:
        for done, (path, doc, chunks) in enumerate(_load_ahead(files, records, settings), start=1):
            bar.set_postfix_str(path.name[:40])
            if progress:
                progress(done - 1, len(files), path.name)
            if doc is None or isinstance(doc, str):
                if isinstance(doc, str):
                    report.skipped.append({"path": str(path), "reason": doc})
                bar.update(1)
                continue
            twin = by_hash.get(doc.content_hash)
            if twin is not None and twin != doc.doc_id:
                twin_record = records.get(twin)
                other_namespace = twin.startswith(UPLOADS) != doc.doc_id.startswith(UPLOADS)
                if twin in seen or other_namespace or (twin_record is not None and Path(twin_record.source).exists()):
                    report.skipped.append({"path": str(path), "reason": f"duplicate of already ingested '{twin}'"})
                    bar.update(1)
                    continue
                writer.submit(functools.partial(store.remove_doc, twin))  # the file was renamed: drop the old name
                if near is not None:
                    near.forget(twin)
                report.removed += 1
            seen.add(doc.doc_id)
            if chunks is None:
                report.unchanged += 1
                bar.update(1)
                continue
            current = records.get(doc.doc_id)
            if current:
                by_hash.pop(current.content_hash, None)
                report.updated += 1
            else:
                report.added += 1
            by_hash[doc.content_hash] = doc.doc_id
            if near is not None:
                doc, chunks = _copy_or_original(doc, chunks, near, store, report)
            pending.append((doc, chunks))
            pending_chars += len(doc.text)
            if pending_chars >= settings.ingest_batch_chars:
                flush()
                pending, pending_chars = [], 0
        flush()
        writer.close()
    except BaseException:
        writer.close(cancel=True)
        raise
    finally:
        if bm25 is not None and rows:
            bm25.add(rows)
        if near is not None:
            near.save()
        bar.close()
    if progress:
        progress(len(files), len(files), "done")
    if prune:
        folders = [p.resolve() for p in paths if p.is_dir()]
        for record in list(store.records().values()):
            source = Path(record.source).resolve()
            if is_upload(record, settings):
                continue  # uploads are removed from the Library tab, never by a prune
            if record.doc_id not in seen and any(source.is_relative_to(f) for f in folders):
                remove_document(store, record.doc_id, embedder, settings)
                report.removed += 1
    report.chunks_total = store.count_chunks()
    report.documents = sorted(store.records())
    return report


def _copy_or_original(
    doc: Document, chunks: list[Chunk], near: NearDupIndex, store: Store, report: IngestReport
) -> Chunked:
    """A near duplicate of a stored document is kept as its copy (no chunks of its own); others are indexed."""
    original = near.find(doc.doc_id, doc.text, store.doc_text)
    if original is None:
        near.add(doc.doc_id, doc.content_hash, doc.text)
        return doc, chunks
    report.near_duplicates += 1
    return dataclasses.replace(doc, metadata={**doc.metadata, "copy_of": original}), []


def remove_document(store: Store, doc_id: str, embedder: Embeddings, settings: Settings) -> None:
    """Remove a document; its oldest syndicated copy takes its place first, so the text stays answerable."""
    records = store.records(fresh=True)
    copies = sorted((r for r in records.values() if r.metadata.get("copy_of") == doc_id),
                    key=lambda r: (r.metadata.get("date") or "9999", r.doc_id))
    texts = store.doc_texts([r.doc_id for r in copies])
    copies = [r for r in copies if r.doc_id in texts]
    if copies:
        heir = copies[0]
        meta = {k: v for k, v in heir.metadata.items() if k != "copy_of"}
        doc = Document(heir.doc_id, heir.source, heir.title, texts[heir.doc_id], heir.content_hash, meta)
        chunked = [(doc, chunk_document(doc, settings.chunk_tokens, settings.chunk_overlap, count_tokens))]
        write_documents(chunked, embed_chunks(chunked, embedder), store, settings)
        others = [(dataclasses.replace(r, metadata={**r.metadata, "copy_of": heir.doc_id}), texts[r.doc_id])
                  for r in copies[1:]]
        store.commit_docs(others)
        log.info("'%s' removed; its copy '%s' now holds the text (%d other copies)", doc_id, heir.doc_id, len(others))
    store.remove_doc(doc_id)


def _is_tty() -> bool:
    import sys

    return sys.stderr.isatty()
