"""A persisted, incremental BM25 index over the committed chunks (numpy only).

The index is a list of immutable segments on disk (one `.npz` each: a term-to-postings
table plus the chunk ids, document ids and versions of its rows) and a `manifest.json`.
Ingest appends a segment for the documents it committed; nothing is rebuilt on start.

Which rows count is decided by the store's document records, the same commit point the
store uses: a row is live only while its document version (id, content hash, chunker)
is the committed one. So a stale, partial or missing index is never wrong, only behind:
`sync()` fetches the chunks of versions it lacks and marks replaced versions dead;
segments are merged (dropping dead rows) when there are too many or too much is dead.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.lexical import content_terms

log = logging.getLogger(__name__)

K1 = 1.5
B = 0.75
MAX_SEGMENTS = 8
MAX_DEAD_SHARE = 0.25
FORMAT = 1
ORPHAN_AGE_S = 600.0  # unlisted segment files younger than this may belong to another process's index

Version = tuple[str, str, str]  # (doc_id, content_hash, chunker)


@dataclass(frozen=True)
class Row:
    """One chunk to index: its id, document version and the text BM25 sees."""

    chunk_id: str
    version: Version
    text: str


@dataclass
class _Segment:
    name: str
    terms: dict[str, int]  # term -> position in indptr
    indptr: np.ndarray  # postings of term i: rows[indptr[i]:indptr[i+1]]
    rows: np.ndarray  # int32, segment-local row numbers
    tfs: np.ndarray  # float32 term frequencies
    lengths: np.ndarray  # float32 terms per row
    chunk_ids: list[str]
    versions: list[Version]

    @classmethod
    def build(cls, rows: Sequence[Row], name: str) -> _Segment:
        postings: dict[str, dict[int, int]] = {}
        lengths = np.zeros(len(rows), dtype=np.float32)
        for i, row in enumerate(rows):
            terms = content_terms(row.text)
            lengths[i] = len(terms)
            for term in terms:
                counts = postings.setdefault(term, {})
                counts[i] = counts.get(i, 0) + 1
        vocab = sorted(postings)
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        for t, term in enumerate(vocab):
            indptr[t + 1] = indptr[t] + len(postings[term])
        flat_rows = np.fromiter((r for term in vocab for r in postings[term]), dtype=np.int32, count=int(indptr[-1]))
        tfs = np.fromiter(
            (c for term in vocab for c in postings[term].values()), dtype=np.float32, count=int(indptr[-1])
        )
        return cls(name, {t: i for i, t in enumerate(vocab)}, indptr, flat_rows, tfs, lengths,
                   [r.chunk_id for r in rows], [r.version for r in rows])

    def save(self, folder: Path) -> None:
        tmp = folder / f".{self.name}.tmp.npz"
        with tmp.open("wb") as fh:
            np.savez(
                fh,
                terms=np.array(list(self.terms), dtype=np.str_),
                indptr=self.indptr,
                rows=self.rows,
                tfs=self.tfs,
                lengths=self.lengths,
                chunk_ids=np.array(self.chunk_ids, dtype=np.str_),
                versions=np.array(self.versions, dtype=np.str_).reshape(-1, 3),
            )
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / f"{self.name}.npz")

    @classmethod
    def load(cls, path: Path) -> _Segment:
        with np.load(path, allow_pickle=False) as data:
            terms = data["terms"].tolist()
            versions = [tuple(v) for v in data["versions"].tolist()]
            return cls(path.stem, {t: i for i, t in enumerate(terms)}, data["indptr"], data["rows"], data["tfs"],
                       data["lengths"], data["chunk_ids"].tolist(), versions)  # type: ignore[arg-type]


class Bm25Index:
    """BM25 (Lucene variant, k1=1.5, b=0.75) over segments persisted in `folder` (None: memory only)."""

    def __init__(self, folder: Path | None) -> None:
        """Open the index in `folder` (segments are read lazily, on first use)."""
        self.folder = folder
        self._lock = threading.RLock()
        self._segments: list[_Segment] | None = None
        self._live: list[np.ndarray] = []
        self._wanted: dict[str, Version] = {}
        self._n_live = 0
        self._avg_len = 1.0
        # derived from the segments in _refresh_live, not per question: row offsets, lengths, ids, documents
        self._offsets = np.zeros(1, dtype=np.int64)
        self._lengths = np.empty(0, dtype=np.float32)
        self._ids: list[str] = []
        self._doc_ids: list[str] = []

    # -- persistence ---------------------------------------------------------------------------

    def _load(self) -> list[_Segment]:
        if self._segments is not None:
            return self._segments
        segments: list[_Segment] = []
        if self.folder is not None and (self.folder / "manifest.json").exists():
            try:
                manifest = json.loads((self.folder / "manifest.json").read_text())
                if manifest.get("format") == FORMAT:
                    segments = [_Segment.load(self.folder / f"{name}.npz") for name in manifest["segments"]]
            except (OSError, ValueError, KeyError) as exc:
                log.warning("BM25 index at %s is unreadable (%s); it will be rebuilt from the store", self.folder, exc)
                segments = []
        self._segments = segments
        return segments

    def _save(self, dropped: Sequence[str] = ()) -> None:
        """Write the manifest; delete the segments this index merged away (`dropped`) and old unlisted files."""
        if self.folder is None or self._segments is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        names = [s.name for s in self._segments]
        tmp = self.folder / f".manifest-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"  # several processes share the folder
        tmp.write_text(json.dumps({"format": FORMAT, "segments": names}))
        os.replace(tmp, self.folder / "manifest.json")
        # segments merged away or left by a crash; another process (the chat and an ingest share this folder) may
        # have just written one it is about to list, so only files older than ORPHAN_AGE_S go
        old = time.time() - ORPHAN_AGE_S
        for path in [*self.folder.glob("seg-*.npz"), *self.folder.glob(".seg-*.tmp.npz"), *self.folder.glob(".manifest-*")]:
            try:
                if path.stem not in names and (path.stem in dropped or path.stat().st_mtime < old):
                    path.unlink(missing_ok=True)
            except OSError:
                pass

    # -- updates -------------------------------------------------------------------------------

    def add(self, rows: Sequence[Row]) -> None:
        """Append rows as a new segment (ingest calls this after each commit; persisted at once)."""
        with self._lock:
            have = {v for s in self._load() for v in s.versions}
            rows = [r for r in rows if r.version not in have]  # a version is indexed once, by ingest or sync
            if not rows:
                return
            segment = _Segment.build(rows, f"seg-{uuid.uuid4().hex[:12]}")
            if self.folder is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
                segment.save(self.folder)
            self._load().append(segment)
            self._save()
            self._refresh_live()

    def sync(self, wanted: Mapping[str, Version], fetch: Callable[[Sequence[str]], Iterable[Row]]) -> int:
        """Make the live rows exactly the `wanted` document versions; returns rows fetched.

        `fetch(doc_ids)` yields the stored rows of those documents (any version); only
        rows of the wanted version are kept.
        """
        with self._lock:
            self._wanted = dict(wanted)
            have = {v for s in self._load() for v in s.versions}
            missing = [doc_id for doc_id, v in self._wanted.items() if v not in have]
            fetched: list[Row] = []
            if missing:
                fetched = [r for r in fetch(missing) if self._wanted.get(r.version[0]) == r.version]
                log.info("BM25 index: indexing %d chunks of %d documents it lacked", len(fetched), len(missing))
            if fetched:
                self.add(fetched)
            else:
                self._refresh_live()
            self._compact_if_needed()
            return len(fetched)

    def _refresh_live(self) -> None:
        wanted = self._wanted
        self._live = [np.fromiter((wanted.get(v[0]) == v for v in s.versions), dtype=bool, count=len(s.versions))
                      for s in self._load()]
        self._n_live = int(sum(m.sum() for m in self._live))
        total = sum(float(s.lengths[m].sum()) for s, m in zip(self._load(), self._live))
        self._avg_len = total / self._n_live if self._n_live else 1.0
        segments = self._load()
        self._offsets = np.cumsum([0] + [len(s.chunk_ids) for s in segments])
        self._lengths = np.concatenate([s.lengths for s in segments]) if segments else np.empty(0, dtype=np.float32)
        self._ids = [c for s in segments for c in s.chunk_ids]
        self._doc_ids = [v[0] for s in segments for v in s.versions]

    def _compact_if_needed(self) -> None:
        segments = self._load()
        rows = sum(len(s.chunk_ids) for s in segments)
        dead = rows - self._n_live
        if len(segments) <= MAX_SEGMENTS and dead <= MAX_DEAD_SHARE * max(rows, 1):
            return
        merged = _merge([(s, m) for s, m in zip(segments, self._live)], f"seg-{uuid.uuid4().hex[:12]}")
        if self.folder is not None and merged.chunk_ids:
            merged.save(self.folder)
        self._segments = [merged] if merged.chunk_ids else []
        self._save(dropped=[s.name for s in segments])
        self._refresh_live()

    # -- queries -------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Live rows."""
        return self._n_live

    def search(self, question: str, n: int, doc_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Top `n` (chunk id, score) with a positive score, optionally only within some documents."""
        terms = list(dict.fromkeys(content_terms(question)))
        with self._lock:
            segments, live = self._load(), self._live
            if not terms or not self._n_live:
                return []
            hits: list[list[tuple[np.ndarray, np.ndarray]]] = []  # per term, per segment: (rows, tfs)
            for term in terms:
                per = []
                for s, alive in zip(segments, live):
                    t = s.terms.get(term)
                    if t is None:
                        per.append((np.empty(0, np.int32), np.empty(0, np.float32)))
                        continue
                    rows, tfs = s.rows[s.indptr[t] : s.indptr[t + 1]], s.tfs[s.indptr[t] : s.indptr[t + 1]]
                    keep = alive[rows]
                    per.append((rows[keep], tfs[keep]))
                hits.append(per)
            offsets, lengths = self._offsets, self._lengths
            scores = np.zeros(int(offsets[-1]), dtype=np.float32)
            for per in hits:
                df = sum(len(rows) for rows, _ in per)
                if not df:
                    continue
                idf = np.log(1.0 + (self._n_live - df + 0.5) / (df + 0.5))
                for (rows, tfs), base in zip(per, offsets[:-1]):
                    if len(rows):
                        at = rows.astype(np.int64) + base
                        norm = tfs + K1 * (1 - B + B * lengths[at] / self._avg_len)
                        scores[at] += idf * tfs * (K1 + 1) / norm
            if doc_ids:
                wanted = set(doc_ids)
                allowed = np.fromiter((d in wanted for d in self._doc_ids), dtype=bool, count=len(scores))
                scores[~allowed] = 0.0
            positive = int((scores > 0).sum())
            k = min(n, positive)
            if k == 0:
                return []
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.lexsort((top, -scores[top]))]
            return [(self._ids[int(i)], float(scores[i])) for i in top]


def _merge(parts: Sequence[tuple[_Segment, np.ndarray]], name: str) -> _Segment:
    """One segment holding the live rows of `parts` (postings copied, not re-tokenised)."""
    chunk_ids: list[str] = []
    versions: list[Version] = []
    lengths: list[np.ndarray] = []
    remaps: list[np.ndarray] = []
    for s, alive in parts:
        remap = np.full(len(s.chunk_ids), -1, dtype=np.int64)
        idx = np.flatnonzero(alive)
        remap[idx] = np.arange(len(chunk_ids), len(chunk_ids) + len(idx))
        chunk_ids += [s.chunk_ids[i] for i in idx]
        versions += [s.versions[i] for i in idx]
        lengths.append(s.lengths[idx])
        remaps.append(remap)
    vocab = sorted({t for s, _ in parts for t in s.terms})
    rows_out: list[np.ndarray] = []
    tfs_out: list[np.ndarray] = []
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    for i, term in enumerate(vocab):
        count = 0
        for (s, _), remap in zip(parts, remaps):
            t = s.terms.get(term)
            if t is None:
                continue
            rows = remap[s.rows[s.indptr[t] : s.indptr[t + 1]]]
            keep = rows >= 0
            rows_out.append(rows[keep].astype(np.int32))
            tfs_out.append(s.tfs[s.indptr[t] : s.indptr[t + 1]][keep])
            count += int(keep.sum())
        indptr[i + 1] = indptr[i] + count
    used = np.flatnonzero(np.diff(indptr) > 0)
    vocab = [vocab[i] for i in used]
    counts = np.diff(indptr)[used]
    return _Segment(
        name,
        {t: i for i, t in enumerate(vocab)},
        np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        np.concatenate(rows_out) if rows_out else np.empty(0, np.int32),
        np.concatenate(tfs_out) if tfs_out else np.empty(0, np.float32),
        np.concatenate(lengths) if lengths else np.empty(0, np.float32),
        chunk_ids,
        versions,
    )
