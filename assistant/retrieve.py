"""question -> ranked passages: dense (Chroma) and BM25, fused by reciprocal rank."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from langchain_core.embeddings import Embeddings

from assistant.bm25 import Bm25Index, Row
from assistant.store import DocRecord, Store, StoredChunk
from assistant.types import Passage

RRF_K = 60


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

        fetched = self.index.sync({r.doc_id: (r.doc_id, r.content_hash, r.chunker) for r in records.values()}, fetch)
        self._synced = revision
        return fetched

    def bm25(self, question: str, n: int, doc_ids: Sequence[str] | None = None) -> list[str]:
        """Chunk ids ranked by BM25 (only positive scores)."""
        self.sync()
        return [cid for cid, _ in self.index.search(question, n, doc_ids)]

    def dense(
        self, question: str, n: int, doc_ids: Sequence[str] | None = None, *, records: dict[str, DocRecord] | None = None
    ) -> list[StoredChunk]:
        """Committed chunks ranked by embedding similarity (`records`: the store's, if already read)."""
        records = self.store.records() if records is None else records
        hits = self.store.dense_search(self.embedder.embed_query(question), n, doc_ids)
        return [h for h in hits if h.doc_id in records and records[h.doc_id].content_hash == h.doc_hash]

    def search(self, question: str, k: int = 6, doc_ids: Sequence[str] | None = None) -> list[Passage]:
        """Top-k passages for a question, optionally only from some documents."""
        n = max(self.candidates, k * 3)
        records = self.store.records()
        dense_hits = self.dense(question, n, doc_ids, records=records)
        dense_ids = [h.chunk_id for h in dense_hits]
        bm25_ids = self.bm25(question, n, doc_ids)
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
                )
            )
        return passages


def to_passage(
    chunk: StoredChunk, record: DocRecord, score: float, dense_rank: int | None, bm25_rank: int | None
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
    )
