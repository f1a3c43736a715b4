"""Chroma behind one module: an embedded folder or a `chroma run` server, same code.

Two collections: `<name>` holds chunk vectors; `<name>-docs` holds one record per
document (its full text, content hash and chunk count). The document record is the
commit point of an ingest: chunks whose hash does not match their document record
are invisible to search and are swept away by the next ingest.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from assistant.settings import Settings
from assistant.types import Chunk
from assistant.writer_lock import FileLock, Lease, OnWait

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


class StoreError(RuntimeError):
    """The store cannot be used as configured; the message says what to do."""


class StoreUnavailable(StoreError):
    """The Chroma server cannot be reached."""


class EmbeddingModelMismatch(StoreError):
    """The collection was filled by another embedding model."""


@dataclass(frozen=True)
class DocRecord:
    """What the store knows about one committed document."""

    doc_id: str
    content_hash: str
    n_chunks: int
    title: str
    source: str
    chunker: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from the store."""

    chunk_id: str
    doc_id: str
    doc_hash: str
    text: str
    start: int
    end: int
    distance: float = 0.0


class Store:
    """Chunks and document records in Chroma (folder or server)."""

    def __init__(self, settings: Settings) -> None:
        """Connect to the folder or server named by the settings."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.settings = settings
        self.location = settings.chroma_url or str(settings.chroma_path)
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            try:
                self._client = chromadb.HttpClient(
                    host=url.hostname or "127.0.0.1",
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
                self._client.heartbeat()
            except Exception as exc:
                raise StoreUnavailable(self._unreachable(exc)) from None
        else:
            settings.chroma_path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
        self._chroma_settings = chroma_settings
        self._chunks: Any = None
        self._docs: Any = None
        self._model: str | None = None
        self._records: dict[str, DocRecord] | None = None
        self._records_revision: str | None = None
        self._seen_revision: str | None = None  # the last revision this process read or wrote
        self._reopen_lock = threading.Lock()
        self._writer_lock: FileLock | Lease = (
            Lease(_TicketBook(self)) if settings.chroma_url else FileLock(settings.data_dir / "writer.lock")
        )

    def _unreachable(self, exc: BaseException) -> str:
        url = urlparse(self.settings.chroma_url or "")
        port = url.port or (443 if url.scheme == "https" else 8000)
        return (
            f"Cannot reach the Chroma server at {self.settings.chroma_url} ({type(exc).__name__}). "
            f"Start it with `chroma run --path DIR --host {url.hostname or '127.0.0.1'} --port {port}`, "
            "or unset ASSISTANT_CHROMA_URL to use the embedded folder."
        )

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a Chroma call, turning connection failures into StoreUnavailable."""
        try:
            return fn(*args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}".lower()
            if self.settings.chroma_url and any(
                w in text for w in ("connect", "timeout", "timed out", "refused", "unreachable", "503", "502")
            ):
                raise StoreUnavailable(self._unreachable(exc)) from None
            raise

    # -- collections -------------------------------------------------------------------------

    def open(self, embedding_model: str) -> None:
        """Open (or create) the collections and refuse a collection filled by another model."""
        name = self.settings.collection
        chunks = self._call(
            self._client.get_or_create_collection,
            name,
            embedding_function=None,
            metadata={"embedding_model": embedding_model, "hnsw:space": "cosine"},
        )
        recorded = (chunks.metadata or {}).get("embedding_model")
        if recorded and recorded != embedding_model:
            raise EmbeddingModelMismatch(
                f"Collection '{name}' at {self.location} was built with the embedding model "
                f"'{recorded}', but the settings use '{embedding_model}'. Vectors of different models "
                "cannot be mixed. Rebuild it with `assistant ingest --rebuild`, or choose another "
                "collection with ASSISTANT_COLLECTION, or set ASSISTANT_EMBEDDINGS back."
            )
        self._chunks = chunks
        self._docs = self._call(self._client.get_or_create_collection, f"{name}-docs", embedding_function=None)
        self._model = embedding_model

    def _reopen(self) -> None:
        """A fresh embedded client: another process wrote the folder, and Chroma's in-memory index is stale.

        Chroma caches one client system per folder; dropping the cache entry (not stopping it: other
        threads may be mid-query on the old one) makes the next client read the folder again.
        """
        import chromadb
        from chromadb.api.shared_system_client import SharedSystemClient

        ident = getattr(self._client, "_identifier", None)
        with SharedSystemClient._refcount_lock:
            SharedSystemClient._identifier_to_system.pop(ident or "", None)
            SharedSystemClient._identifier_to_refcount.pop(ident or "", None)
        self._client = chromadb.PersistentClient(path=str(self.settings.chroma_path), settings=self._chroma_settings)
        if self._model is not None:
            self.open(self._model)
        self._records = None

    # -- one writer at a time --------------------------------------------------------------------

    @contextmanager
    def writer(self, what: str = "ingest", *, wait: bool = True, on_wait: OnWait | None = None) -> Iterator[None]:
        """Hold the store's cross-process writer lock for the block (re-entrant within a thread).

        A second writer waits (calling `on_wait` with "waiting for another ingest (pid N) to
        finish…") or, with `wait=False`, gets `WriterBusy`. Readers never take it.
        """
        with self._writer_lock.hold(what, wait=wait, on_wait=on_wait):
            self.revision()  # catch up with what the previous writer committed (reopens a stale folder client)
            yield

    @property
    def chunks(self) -> Any:
        """The chunk collection (open() first)."""
        if self._chunks is None:
            raise StoreError("store not opened: call Store.open(embedding_model) first")
        return self._chunks

    @property
    def docs(self) -> Any:
        """The document-record collection (open() first)."""
        if self._docs is None:
            raise StoreError("store not opened: call Store.open(embedding_model) first")
        return self._docs

    def drop(self) -> None:
        """Delete both collections (for a rebuild)."""
        for name in (self.settings.collection, f"{self.settings.collection}-docs"):
            try:
                self._call(self._client.delete_collection, name)
            except StoreUnavailable:
                raise
            except Exception:
                pass
        self._chunks = self._docs = None
        self._records = None

    # -- revision: changes whenever a document is committed or removed ---------------------------

    def revision(self) -> str:
        """An opaque token that changes on every commit; used to refresh caches.

        When another process changed it (or rebuilt the collections), the embedded client is
        reopened first, so this process reads what that writer committed.
        """
        name = f"{self.settings.collection}-docs"
        try:
            col = self._call(self._client.get_collection, name)  # fresh: other processes commit too
        except StoreError:
            raise
        except Exception:  # dropped by another process's --rebuild: open (create) them again
            if self._model is None:
                raise
            with self._reopen_lock:
                self._reopen() if not self.settings.chroma_url else self.open(self._model)
            col = self._call(self._client.get_collection, name)
        rev = str((col.metadata or {}).get("revision", "0"))
        if self._seen_revision is not None and rev != self._seen_revision and self._model is not None:
            with self._reopen_lock:
                if rev != self._seen_revision:
                    if not self.settings.chroma_url:
                        self._reopen()
                    elif self._docs is not None and col.id != self._docs.id:
                        self.open(self._model)
        self._seen_revision = rev
        return rev

    def _bump(self) -> None:
        rev = uuid.uuid4().hex
        self._call(self.docs.modify, metadata={"revision": rev})
        self._seen_revision = rev
        self._records = None

    # -- writes ------------------------------------------------------------------------------

    def upsert_many(self, items: Sequence[tuple[str, Chunk, Sequence[float], Mapping[str, str | int]]]) -> None:
        """Write (doc hash, chunk, vector, extra metadata) of many documents in as few calls as Chroma allows.

        Idempotent: chunk ids are content-addressed.

        Each Chroma write has a fixed cost (a transaction), so one call per group, not per document.
        """
        batch = max(1, int(self._call(self._client.get_max_batch_size)))
        for at in range(0, len(items), batch):
            part = items[at : at + batch]
            self._call(
                self.chunks.upsert,
                ids=[c.chunk_id for _, c, _, _ in part],
                embeddings=[list(v) for _, _, v, _ in part],
                documents=[c.text for _, c, _, _ in part],
                metadatas=[
                    {**extra, "doc_id": c.doc_id, "doc_hash": h, "index": c.index, "start": c.start, "end": c.end}
                    for h, c, _, extra in part
                ],
            )

    def commit_docs(self, items: Sequence[tuple[DocRecord, str]]) -> None:
        """Commit several document versions in one write, then sweep their stale chunks."""
        if not items:
            return
        metas = [
            {
                "doc_id": r.doc_id,
                "content_hash": r.content_hash,
                "n_chunks": r.n_chunks,
                "title": r.title,
                "source": r.source,
                "chunker": r.chunker,
                "extra": json.dumps(r.metadata, sort_keys=True),
            }
            for r, _ in items
        ]
        self._bump()  # before and after: a crash in between never leaves a revision whose cached records are stale
        self._call(
            self.docs.upsert,
            ids=[r.doc_id for r, _ in items],
            embeddings=[[1.0]] * len(items),
            documents=[t for _, t in items],
            metadatas=metas,
        )
        keep = {r.doc_id: r.content_hash for r, _ in items}
        ids = list(keep)
        where: dict[str, Any] = {"doc_id": ids[0]} if len(ids) == 1 else {"doc_id": {"$in": ids}}
        found = self._call(self.chunks.get, where=where, include=["metadatas"])
        self.delete_chunks(
            [cid for cid, m in zip(found["ids"], found["metadatas"]) if keep.get(str(m["doc_id"])) != m["doc_hash"]]
        )
        self._bump()

    def remove_doc(self, doc_id: str) -> None:
        """Remove a document: its record first (so it vanishes at once), then its chunks."""
        self._bump()
        self._call(self.docs.delete, ids=[doc_id])
        self.delete_chunks(self._call(self.chunks.get, where={"doc_id": doc_id}, include=[])["ids"])
        self._bump()

    def delete_chunks(self, ids: Sequence[str]) -> None:
        """Delete chunks by id, in batches."""
        for at in range(0, len(ids), 1000):
            self._call(self.chunks.delete, ids=list(ids[at : at + 1000]))

    # -- reads -------------------------------------------------------------------------------

    def records(self, *, fresh: bool = False) -> dict[str, DocRecord]:
        """Committed documents by id (cached in memory and on disk until the revision changes).

        `fresh` reads them from Chroma whatever the caches hold: ingest decides what to sweep
        and re-index from the store itself, never from a cache.
        """
        rev = self.revision()
        if not fresh and self._records is not None and rev == self._records_revision:
            return self._records
        records = None if fresh else self._cached_records(rev)
        if records is None:
            got = self._call(self.docs.get, include=["metadatas"])
            records = {}
            for meta in got["metadatas"] or []:
                records[str(meta["doc_id"])] = DocRecord(
                    doc_id=str(meta["doc_id"]),
                    content_hash=str(meta["content_hash"]),
                    n_chunks=int(meta["n_chunks"]),
                    title=str(meta.get("title", "")),
                    source=str(meta.get("source", "")),
                    chunker=str(meta.get("chunker", "")),
                    metadata=json.loads(str(meta.get("extra") or "{}")),
                )
            self._cache_records(rev, records)
        self._records, self._records_revision = records, rev
        return records

    def local_dir(self, kind: str) -> Path:
        """A local folder for `kind` of data derived from this store (keyed by its location and collection)."""
        key = hashlib.sha1(f"{self.location}\n{self.settings.collection}".encode()).hexdigest()[:12]
        return self.settings.data_dir / kind / f"{self.settings.collection}-{key}"

    def _records_file(self) -> Path:
        return self.local_dir("records") / "records.json"

    def _cached_records(self, rev: str) -> dict[str, DocRecord] | None:
        """The records saved at this revision (a large library starts in ms instead of seconds)."""
        try:
            data = json.loads(self._records_file().read_text(encoding="utf-8"))
            if rev == "0" or data.get("revision") != rev:
                return None
            return {r["doc_id"]: DocRecord(**r) for r in data["records"]}
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _cache_records(self, rev: str, records: dict[str, DocRecord]) -> None:
        if rev == "0":
            return
        path = self._records_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"revision": rev, "records": [asdict(r) for r in records.values()]}), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a cache only

    def doc_text(self, doc_id: str) -> str | None:
        """Full text of a committed document."""
        got = self._call(self.docs.get, ids=[doc_id], include=["documents"])
        docs = got["documents"] or []
        return str(docs[0]) if docs else None

    def doc_texts(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """Full texts of several committed documents (missing ids are left out)."""
        if not doc_ids:
            return {}
        got = self._call(self.docs.get, ids=list(doc_ids), include=["documents"])
        return {str(i): str(t) for i, t in zip(got["ids"], got["documents"] or []) if t is not None}

    def count_chunks(self) -> int:
        """Number of stored chunks (committed or not)."""
        return int(self._call(self.chunks.count))

    def iter_chunks(self, page: int = 5000) -> Iterator[StoredChunk]:
        """Every stored chunk (committed or not), page by page."""
        offset = 0
        while True:
            got = self._call(self.chunks.get, include=["documents", "metadatas"], limit=page, offset=offset)
            ids = got["ids"]
            if not ids:
                return
            for cid, text, meta in zip(ids, got["documents"], got["metadatas"]):
                if meta is not None:  # deleted by a writer between Chroma's index lookup and its record read
                    yield _stored(cid, text, meta)
            offset += len(ids)

    def chunks_of(self, doc_ids: Sequence[str], batch: int = 200) -> Iterator[StoredChunk]:
        """Every stored chunk of some documents (any version), a batch of documents at a time."""
        for at in range(0, len(doc_ids), batch):
            ids = list(doc_ids[at : at + batch])
            where: dict[str, Any] = {"doc_id": ids[0]} if len(ids) == 1 else {"doc_id": {"$in": ids}}
            got = self._call(self.chunks.get, where=where, include=["documents", "metadatas"])
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                if meta is not None:  # deleted by a writer between Chroma's index lookup and its record read
                    yield _stored(cid, text, meta)

    def get_chunks(self, ids: Sequence[str]) -> list[StoredChunk]:
        """Chunks by id, in the order given (missing ids are left out)."""
        if not ids:
            return []
        got = self._call(self.chunks.get, ids=list(ids), include=["documents", "metadatas"])
        by_id = {cid: _stored(cid, t, m) for cid, t, m in zip(got["ids"], got["documents"], got["metadatas"]) if m}
        return [by_id[i] for i in ids if i in by_id]

    def dense_search(
        self, vector: Sequence[float], n: int, doc_ids: Sequence[str] | None = None, *, where: dict[str, Any] | None = None
    ) -> list[StoredChunk]:
        """Nearest chunks by cosine distance, optionally within some documents and a chunk-metadata `where`."""
        if doc_ids:
            by_doc: dict[str, Any] = {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": list(doc_ids)}}
            where = {"$and": [by_doc, where]} if where else by_doc
        got = self._call(
            self.chunks.query,
            query_embeddings=[list(vector)],
            n_results=n,  # Chroma returns fewer when the collection is smaller (a count() costs 20 ms at 100k)
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            _stored(cid, text, meta, dist)
            for cid, text, meta, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
            if meta is not None  # a chunk deleted by a concurrent writer can come back without its record
        ]


class _TicketBook:
    """The writer lease's tickets on a Chroma server: one record per contender in `<collection>-lock`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _col(self) -> Any:
        return self.store._call(self.store._client.get_or_create_collection, f"{self.store.settings.collection}-lock",
                                embedding_function=None)

    def tickets(self) -> dict[str, dict[str, str]]:
        got = self.store._call(self._col().get, include=["metadatas"])
        return {tid: {k: str(v) for k, v in (meta or {}).items()} for tid, meta in zip(got["ids"], got["metadatas"] or [])}

    def put(self, ticket_id: str, fields: dict[str, str]) -> None:
        self.store._call(self._col().add, ids=[ticket_id], embeddings=[[1.0]], metadatas=[fields])

    def touch(self, ticket_id: str, fields: dict[str, str]) -> None:
        self.store._call(self._col().update, ids=[ticket_id], metadatas=[fields])  # Chroma ignores a missing id

    def remove(self, ticket_ids: list[str]) -> None:
        self.store._call(self._col().delete, ids=ticket_ids)


def _stored(cid: str, text: Any, meta: Any, distance: float = 0.0) -> StoredChunk:
    return StoredChunk(
        chunk_id=cid,
        doc_id=str(meta["doc_id"]),
        doc_hash=str(meta["doc_hash"]),
        text=str(text),
        start=int(meta["start"]),
        end=int(meta["end"]),
        distance=float(distance),
    )
