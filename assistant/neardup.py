"""Near-duplicate documents (syndicated copies): word-shingle MinHash with LSH banding, numpy only.

A document is a near duplicate of a stored one when the resemblance (Jaccard similarity) of
their word 3-shingle sets is at least THRESHOLD and the edit changes no fact: a replaced phrase
with other content words, a number or a name, or an added or dropped negation, keeps the two
apart (an answer-swapped copy is a disagreement to show, not a copy to hide).

LSH finds candidates in one vectorised comparison over all stored signatures (16 bands of 8
rows: a pair at resemblance 0.9 becomes a candidate with probability 0.9999, one at 0.5 with
0.06); each candidate is then checked exactly on its text. The signatures are persisted in one
`.npz` beside the BM25 index and kept in step with the store's document records.
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np

from assistant.lexical import NEGATIONS, NUMBER_WORDS, STOPWORDS, fold, stem

log = logging.getLogger(__name__)

THRESHOLD = 0.9
SHINGLE = 3
BANDS, ROWS = 16, 8
PERMS = BANDS * ROWS
MAX_SWAP = 8  # a replaced phrase up to this many words is a changed fact; longer is rewritten or trimmed text
_RNG = np.random.default_rng(20250604)  # fixed: signatures must be comparable across runs
_A = _RNG.integers(1, 2**63 - 1, size=PERMS, dtype=np.uint64) | np.uint64(1)
_B = _RNG.integers(0, 2**63 - 1, size=PERMS, dtype=np.uint64)
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)
_WORD = re.compile(r"\w+")

Key = tuple[str, str]  # (doc_id, content_hash)


def shingle_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the text's word 3-shingles (folded words), unique."""
    toks = _WORD.findall(fold(text))
    if not toks:
        return np.zeros(0, dtype=np.uint64)
    w = np.fromiter((zlib.crc32(t.encode()) for t in toks), dtype=np.uint64, count=len(toks))
    if len(w) < SHINGLE:
        return np.unique(w * _MIX[0])
    with np.errstate(over="ignore"):
        h = w[:-2] * _MIX[0] ^ w[1:-1] * _MIX[1] ^ w[2:] * _MIX[2]
    return np.unique(h)


def signature(hashes: np.ndarray) -> np.ndarray:
    """MinHash signature (PERMS uint32 values) of a shingle-hash set: multiply-shift hashing."""
    if not len(hashes):
        return np.full(PERMS, np.iinfo(np.uint32).max, dtype=np.uint32)
    with np.errstate(over="ignore"):
        mixed = (hashes[None, :] * _A[:, None] + _B[:, None]) >> np.uint64(32)
    return mixed.min(axis=1).astype(np.uint32)


def band_keys(sigs: np.ndarray) -> np.ndarray:
    """One 64-bit key per band and row of signatures (shape [n, BANDS])."""
    s = sigs.reshape(len(sigs), BANDS, ROWS).astype(np.uint64)
    key = np.zeros((len(sigs), BANDS), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(ROWS):
            key = key * np.uint64(0x100000001B3) ^ s[:, :, r]
    return key


def resemblance(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two shingle-hash sets."""
    if not len(a) and not len(b):
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def _content(tokens: Sequence[str]) -> frozenset[str]:
    return frozenset(
        str(NUMBER_WORDS[t]) if t in NUMBER_WORDS else stem(t) for t in tokens if t not in STOPWORDS or t in NEGATIONS
    )


def changes_facts(a: str, b: str) -> bool:
    """True when `b` differs from `a` by a changed fact: a phrase replaced by other content, or a negation added/dropped."""
    ta, tb = re.findall(r"\S+", a), re.findall(r"\S+", b)
    fa = [fold(t).strip(".,;:!?\"'“”‘’()—-") for t in ta]
    fb = [fold(t).strip(".,;:!?\"'“”‘’()—-") for t in tb]
    for i1, i2, j1, j2 in _edits(SequenceMatcher(None, fa, fb, autojunk=False).get_opcodes()):
        ca, cb = _content(fa[i1:i2]), _content(fb[j1:j2])
        small = max(i2 - i1, j2 - j1) <= MAX_SWAP
        if small and ca and cb and ca != cb:  # a phrase replaced by another: a changed fact
            return True
        if small and (ca ^ cb) & (NEGATIONS | {"n't"}):  # "did attend" -> "did not attend"
            return True
    return False


def _edits(opcodes: Sequence[tuple[str, int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Edited spans (a[i1:i2] -> b[j1:j2]), joining edits that only a word or two in common separate."""
    out: list[list[int]] = []
    last_equal = 0
    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            last_equal = i2 - i1
            continue
        if out and last_equal <= 2:
            out[-1][1], out[-1][3] = i2, j2
        else:
            out.append([i1, i2, j1, j2])
        last_equal = 0
    return [(a, b, c, d) for a, b, c, d in out]


class NearDupIndex:
    """MinHash signatures of the stored (original) documents, persisted in `folder` (None: memory only)."""

    def __init__(self, folder: Path | None) -> None:
        """Open the index in `folder` (read on first use)."""
        self.folder = folder
        self._keys: list[Key] = []
        self._sigs = np.zeros((0, PERMS), dtype=np.uint32)
        self._bands = np.zeros((0, BANDS), dtype=np.uint64)
        self._n = 0
        self._loaded = False
        self._texts: dict[str, str] = {}  # texts added in this run (not yet readable from the store)
        self._row: dict[str, int] = {}

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        path = self._path()
        if path is None or not path.exists():
            return
        try:
            with np.load(path, allow_pickle=False) as data:
                keys = [tuple(k) for k in data["keys"].tolist()]
                sigs = data["sigs"].astype(np.uint32)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("near-duplicate index at %s is unreadable (%s); it will be rebuilt", path, exc)
            return
        if sigs.shape[1:] == (PERMS,) and len(keys) == len(sigs):
            self._keys, self._sigs, self._bands, self._n = keys, sigs, band_keys(sigs), len(keys)  # type: ignore[assignment]
            self._row = {d: i for i, (d, _) in enumerate(self._keys)}

    def _path(self) -> Path | None:
        return self.folder / "minhash.npz" if self.folder is not None else None

    def __len__(self) -> int:
        """Documents indexed."""
        self._load()
        return self._n

    def save(self) -> None:
        """Persist the signatures (atomic replace)."""
        path = self._path()
        if path is None or not self._loaded:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(".minhash.tmp.npz")
        live = [i for i, (d, _) in enumerate(self._keys[: self._n]) if d]
        keys = np.array([self._keys[i] for i in live], dtype=np.str_).reshape(-1, 2)
        with tmp.open("wb") as fh:
            np.savez(fh, keys=keys, sigs=self._sigs[live])
        os.replace(tmp, path)

    def sync(self, wanted: Mapping[str, str], texts: Callable[[Sequence[str]], Mapping[str, str]]) -> int:
        """Keep exactly the `wanted` {doc_id: content_hash}; index the missing ones from `texts(ids)`. Returns added."""
        self._load()
        keep = [i for i, (d, h) in enumerate(self._keys[: self._n]) if d and wanted.get(d) == h]
        if len(keep) != self._n:
            self._keys = [self._keys[i] for i in keep]
            self._sigs, self._bands = self._sigs[keep], self._bands[keep]
            self._n = len(keep)
            self._row = {d: i for i, (d, _) in enumerate(self._keys)}
        have = {d for d, _ in self._keys}
        missing = [d for d in wanted if d not in have]
        for at in range(0, len(missing), 500):
            part = missing[at : at + 500]
            for doc_id, text in texts(part).items():
                self._append((doc_id, wanted[doc_id]), signature(shingle_hashes(text)))
        return len(missing)

    def _append(self, key: Key, sig: np.ndarray) -> None:
        if self._n == len(self._sigs):  # grow by doubling: adding stays O(1) amortised
            cap = max(64, 2 * len(self._sigs))
            sigs = np.zeros((cap, PERMS), dtype=np.uint32)
            bands = np.zeros((cap, BANDS), dtype=np.uint64)
            sigs[: self._n], bands[: self._n] = self._sigs[: self._n], self._bands[: self._n]
            self._sigs, self._bands = sigs, bands
        self._sigs[self._n] = sig
        self._bands[self._n] = band_keys(sig[None, :])[0]
        del self._keys[self._n :]
        self._keys.append(key)
        self._row[key[0]] = self._n
        self._n += 1

    def add(self, doc_id: str, content_hash: str, text: str) -> None:
        """Index a document stored as an original (its text kept for this run's checks)."""
        self._load()
        self._drop(doc_id)
        self._append((doc_id, content_hash), signature(shingle_hashes(text)))
        self._texts[doc_id] = text

    def forget(self, doc_id: str) -> None:
        """Stop matching against a document (it is being removed)."""
        self._load()
        self._drop(doc_id)

    def _drop(self, doc_id: str) -> None:
        row = self._row.get(doc_id)
        if row is not None:  # a new version replaces it: the old row can no longer match
            self._bands[row] = 0
            self._keys[row] = ("", "")
            del self._row[doc_id]

    def candidates_rows(self, sig: np.ndarray | None) -> list[int]:
        """Rows sharing at least one LSH band with a signature (all rows when None)."""
        if sig is None:
            return list(range(self._n))
        q = band_keys(sig[None, :])[0]
        rows = np.flatnonzero((self._bands[: self._n] == q).any(axis=1)).tolist()
        return [r for r in rows if self._keys[r][0]]

    def find(self, doc_id: str, text: str, stored_text: Callable[[str], str | None]) -> str | None:
        """The stored original that `text` is a syndicated copy of, or None."""
        self._load()
        hashes = shingle_hashes(text)
        best: tuple[float, str] | None = None
        for row in self.candidates_rows(signature(hashes)):
            other = self._keys[row][0]
            if other == doc_id:
                continue
            other_text = self._texts.get(other) or stored_text(other)
            if other_text is None:
                continue
            score = resemblance(hashes, shingle_hashes(other_text))
            if score >= THRESHOLD and (best is None or score > best[0]) and not changes_facts(other_text, text):
                best = (score, other)
        return best[1] if best else None


def originals(records: Iterable[object]) -> dict[str, str]:
    """{doc_id: content_hash} of the records that hold chunks (not copies)."""
    return {
        r.doc_id: r.content_hash  # type: ignore[attr-defined]
        for r in records
        if not r.metadata.get("copy_of")  # type: ignore[attr-defined]
    }
