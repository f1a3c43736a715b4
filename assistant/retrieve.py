"""question -> ranked passages: dense (Chroma) and BM25, fused by reciprocal rank."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.embeddings import Embeddings

from assistant.lexical import content_terms
from assistant.store import DocRecord, Store, StoredChunk
from assistant.types import Passage

RRF_K = 60
logging.getLogger("bm25s").setLevel(logging.WARNING)


def rrf(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the rankings an id appears in."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return scores


@dataclass
class _Bm25Index:
    revision: str
    ids: list[str]
    doc_ids: list[str]
    model: object


class Retriever:
    """Hybrid retriever over the committed chunks of a Store.

    The BM25 index is built once and rebuilt only when the store's revision changes.
    """

    def __init__(self, store: Store, embedder: Embeddings, *, candidates: int = 30) -> None:
        """Search `store` with `embedder` for the dense side."""
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self._bm25: _Bm25Index | None = None

    def _bm25_index(self) -> _Bm25Index | None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)

        revision = self.store.revision()
        if self._bm25 is not None and self._bm25.revision == revision:
            return self._bm25
        records = self.store.records()
        ids: list[str] = []
        doc_ids: list[str] = []
        corpus: list[list[str]] = []
        for chunk in self.store.iter_chunks():
            record = records.get(chunk.doc_id)
            if record is None or record.content_hash != chunk.doc_hash:
                continue
            ids.append(chunk.chunk_id)
            doc_ids.append(chunk.doc_id)
            corpus.append(content_terms(f"{record.title}\n{chunk.text}") or ["_"])
        if not ids:
            self._bm25 = None
            return None
        model = bm25s.BM25()
        model.index(corpus, show_progress=False)
        self._bm25 = _Bm25Index(revision, ids, doc_ids, model)
        return self._bm25

    def bm25(self, question: str, n: int, doc_ids: Sequence[str] | None = None) -> list[str]:
        """Chunk ids ranked by BM25 (only positive scores)."""
        import numpy as np

        index = self._bm25_index()
        terms = content_terms(question)
        if index is None or not terms:
            return []
        mask = None
        if doc_ids:
            wanted = set(doc_ids)
            mask = np.array([d in wanted for d in index.doc_ids], dtype=np.float32)
        k = min(n, len(index.ids))
        docs, scores = index.model.retrieve([terms], k=k, show_progress=False, weight_mask=mask)  # type: ignore[attr-defined]
        return [index.ids[int(i)] for i, s in zip(docs[0], scores[0]) if s > 0]

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
