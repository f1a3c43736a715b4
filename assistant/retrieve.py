"""question -> ranked passages: dense (Chroma) and BM25, fused by reciprocal rank."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings

from assistant.bm25 import Bm25Index, Row
from assistant.dates import date_int, parse_filter_date
from assistant.store import DocRecord, Store, StoredChunk
from assistant.types import Filters, Passage

RRF_K = 60


def outlet_key(name: str) -> str:
    """How outlet names are compared: case-insensitive, spaces collapsed, a leading "The" ignored."""
    key = " ".join(name.casefold().split())
    return key[4:] if key.startswith("the ") else key


def make_filters(
    sources: Sequence[str] | str | None = None, since: str | None = None, until: str | None = None
) -> Filters:
    """Validated filters from user input; raises ValueError with a message naming the bad value."""
    if isinstance(sources, str):
        sources = [sources]
    names = tuple(dict.fromkeys(" ".join(s.split()) for s in (sources or ()) if s and s.strip()))
    lo = parse_filter_date(since, "--since") if since else None
    hi = parse_filter_date(until, "--until") if until else None
    if lo and hi and lo > hi:
        raise ValueError(f"--since {lo} is after --until {hi}: no date can match")
    return Filters(names, lo, hi)


@dataclass(frozen=True)
class Scope:
    """The documents a filtered search may return, and the same as a Chroma `where` on chunk metadata."""

    filters: Filters
    doc_ids: frozenset[str] | None  # documents holding chunks that may be returned (None: all)
    where: dict[str, Any] | None
    unknown_sources: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()  # every outlet in the library (for "matches nothing" messages)

    @property
    def empty(self) -> bool:
        """True when the filters match no document."""
        return self.doc_ids is not None and not self.doc_ids


def resolve_scope(records: Mapping[str, DocRecord], filters: Filters) -> Scope:
    """Which documents the filters allow. Pure.

    A syndicated copy (metadata `copy_of`) has no chunks of its own: when the copy matches,
    the chunks of the document it copies may be returned.
    """
    known: dict[str, set[str]] = {}
    for r in records.values():
        outlet = r.metadata.get("outlet", "")
        if outlet:
            known.setdefault(outlet_key(outlet), set()).add(outlet)
    everything = tuple(sorted({o for names in known.values() for o in names}, key=str.casefold))
    if not filters:
        return Scope(filters, None, None, (), everything)
    outlets: set[str] = set()
    unknown = []
    for name in filters.sources:
        if outlet_key(name) in known:
            outlets |= known[outlet_key(name)]
        else:
            unknown.append(name)
    lo, hi = date_int(filters.since), date_int(filters.until)

    def match(meta: Mapping[str, str]) -> bool:
        if filters.sources and meta.get("outlet") not in outlets:
            return False
        if lo is None and hi is None:
            return True
        day = date_int(meta.get("date"))
        return day is not None and (lo is None or day >= lo) and (hi is None or day <= hi)

    direct: set[str] = set()
    via_copy: set[str] = set()
    for r in records.values():
        if match(r.metadata):
            original = r.metadata.get("copy_of")
            if not original:
                direct.add(r.doc_id)
            elif original in records:
                via_copy.add(original)
    clauses: list[dict[str, Any]] = []
    if filters.sources:
        clauses.append({"outlet": {"$in": sorted(outlets) or ["\x00none"]}})
    if lo is not None:
        clauses.append({"date": {"$gte": lo}})
    if hi is not None:
        clauses.append({"date": {"$lte": hi}})
    where: dict[str, Any] = clauses[0] if len(clauses) == 1 else {"$and": clauses}
    extra = sorted(via_copy - direct)
    if extra:
        where = {"$or": [where, {"doc_id": extra[0]} if len(extra) == 1 else {"doc_id": {"$in": extra}}]}
    return Scope(filters, frozenset(direct | via_copy), where, tuple(unknown), everything)


def rrf(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the rankings an id appears in."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return scores


class Retriever:
    """Hybrid retriever over the committed chunks of a Store.

    The BM25 index is persisted beside the store and kept in step with its document
    records: on a revision change only the documents it lacks are fetched and indexed.
    """

    def __init__(self, store: Store, embedder: Embeddings, bm25: Bm25Index | None = None, *, candidates: int = 30) -> None:
        """Search `store` with `embedder` for the dense side and `bm25` (default: in memory) for the lexical one."""
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.index = bm25 if bm25 is not None else Bm25Index(None)
        self._synced: str | None = None
        self._synced_records: dict[str, DocRecord] | None = None  # the records object the index was last synced to
        self._scope: tuple[dict[str, DocRecord], Filters, Scope] | None = None

    def scope(
        self, sources: Sequence[str] | None = None, since: str | None = None, until: str | None = None,
        *, records: dict[str, DocRecord] | None = None,
    ) -> Scope:
        """The documents these filters allow (cached per store revision; `records`: the store's, if already read)."""
        filters = make_filters(sources, since, until)
        records = self.store.records() if records is None else records
        if self._scope is None or self._scope[0] is not records or self._scope[1] != filters:
            self._scope = (records, filters, resolve_scope(records, filters))
        return self._scope[2]

    def sync(self) -> int:
        """Bring the BM25 index in line with the store's committed documents; returns rows it had to fetch."""
        revision = self.store.revision()
        if revision == self._synced:
            return 0
        records = self.store.records()

        def fetch(doc_ids: Sequence[str]) -> Iterator[Row]:
            for chunk in self.store.chunks_of(doc_ids):
                record = records.get(chunk.doc_id)
                if record is not None:
                    yield Row(chunk.chunk_id, (chunk.doc_id, chunk.doc_hash, record.chunker), f"{record.title}\n{chunk.text}")

        wanted = {r.doc_id: (r.doc_id, r.content_hash, r.chunker) for r in records.values() if r.n_chunks}
        fetched = self.index.sync(wanted, fetch)  # syndicated copies have no chunks of their own
        self._synced, self._synced_records = revision, records
        return fetched

    def bm25(
        self, question: str, n: int, doc_ids: Sequence[str] | None = None, *, records: dict[str, DocRecord] | None = None
    ) -> list[str]:
        """Chunk ids ranked by BM25 (only positive scores).

        `records`: the store's, just read. The store hands out a new records object whenever its revision
        changes, so when they are the very object the index was synced to, the index is current and the
        revision is not read again (each read asks Chroma for the collection).
        """
        if records is None or records is not self._synced_records:
            self.sync()
        return [cid for cid, _ in self.index.search(question, n, doc_ids)]

    def dense(
        self,
        question: str,
        n: int,
        doc_ids: Sequence[str] | None = None,
        *,
        records: dict[str, DocRecord] | None = None,
        where: dict[str, Any] | None = None,
    ) -> list[StoredChunk]:
        """Committed chunks ranked by embedding similarity (`records`: the store's, if already read)."""
        records = self.store.records() if records is None else records
        hits = self.store.dense_search(self.embedder.embed_query(question), n, doc_ids, where=where)
        return [h for h in hits if h.doc_id in records and records[h.doc_id].content_hash == h.doc_hash]

    def search(
        self,
        question: str,
        k: int = 6,
        doc_ids: Sequence[str] | None = None,
        *,
        sources: Sequence[str] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[Passage]:
        """Top-k passages for a question, optionally only from some documents, outlets and dates.

        The filters apply inside both rankings: a Chroma `where` on chunk metadata (outlet, date
        as yyyymmdd) for the dense side, the allowed documents for BM25.
        """
        n = max(self.candidates, k * 3)
        records = self.store.records()
        scope = self.scope(sources, since, until, records=records)
        if scope.empty:
            return []
        bm25_docs: Sequence[str] | None = doc_ids
        if scope.doc_ids is not None:
            bm25_docs = sorted(scope.doc_ids & set(doc_ids)) if doc_ids else sorted(scope.doc_ids)
            if not bm25_docs:
                return []
        dense_hits = self.dense(question, n, doc_ids, records=records, where=scope.where)
        if scope.doc_ids is not None:
            dense_hits = [h for h in dense_hits if h.doc_id in scope.doc_ids]
        dense_ids = [h.chunk_id for h in dense_hits]
        bm25_ids = self.bm25(question, n, bm25_docs, records=records)
        fused = rrf([dense_ids, bm25_ids])
        top = sorted(fused, key=lambda cid: (-fused[cid], cid))[:k]
        known = {h.chunk_id: h for h in dense_hits}
        missing = [cid for cid in top if cid not in known]
        known.update({c.chunk_id: c for c in self.store.get_chunks(missing)})
        passages = []
        for cid in top:
            chunk = known.get(cid)
            if chunk is None or chunk.doc_id not in records:
                continue
            passages.append(
                to_passage(
                    chunk,
                    records[chunk.doc_id],
                    fused[cid],
                    dense_ids.index(cid) + 1 if cid in dense_ids else None,
                    bm25_ids.index(cid) + 1 if cid in bm25_ids else None,
                    1.0 - known[cid].distance if cid in dense_ids else None,
                )
            )
        return passages


def to_passage(
    chunk: StoredChunk, record: DocRecord, score: float, dense_rank: int | None, bm25_rank: int | None,
    similarity: float | None = None,
) -> Passage:
    """Join a stored chunk with its document record."""
    return Passage(
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        title=record.title,
        source=record.source,
        text=chunk.text,
        start=chunk.start,
        end=chunk.end,
        score=round(score, 6),
        dense_rank=dense_rank,
        bm25_rank=bm25_rank,
        metadata=dict(record.metadata),
        similarity=None if similarity is None else round(similarity, 6),
    )
