"""Candidate sentences of the retrieved passages and the features the answerability models read.

Pure logic: sentence similarities come in as numbers (the caller embeds), so the same code
computes features at answer time and in evals/train_answerability.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.chunk import split_sentences
from assistant.lexical import capitalized_names, content_terms, is_instruction, numbers, words
from assistant.question import KINDS, Question, typed_spans
from assistant.types import Passage

LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
TYPED_KINDS = ("person", "place", "date", "duration", "number")

SENTENCE_FEATURES = (
    "cov", "cov_raw", "cov_window", "ctx_cov", "entity", "entity_passage", "typed", "type_fit", "n_typed",
    "num_match", "log_len", "prank", "dense_rank", "bm25_rank", "psim", "psim_missing", "heading_cov",
)
DENSE_FEATURES = ("sim", "sim_gap", "sim_rank")
CE_FEATURES = ("ce",)  # the cross-encoder's logit (assistant/crossencoder.py); 0 when the answerer runs without it
QUESTION_FEATURES = (
    "p1", "p_gap", "p2", "max_sim", "max_psim", "psim_top", "best_cov", "cov_top", "missing_entities",
    "missing_numbers", "type_fit_top", "typed_any3", "log_terms", "n_entities", *(f"kind_{k}" for k in KINDS),
)
QUESTION_CE_FEATURES = ("ce_max", "ce_gap")
SENTENCE_COLUMNS = (*SENTENCE_FEATURES, *DENSE_FEATURES, *CE_FEATURES)  # what sentence_rows gives; a model reads a subset
QUESTION_COLUMNS = (*QUESTION_FEATURES, *QUESTION_CE_FEATURES)  # what question_features gives


@dataclass(frozen=True)
class Candidate:
    """One sentence of one passage, with passage-relative offsets."""

    passage: Passage
    rank: int
    start: int
    end: int
    text: str
    terms: frozenset[str]
    heading_terms: frozenset[str] = frozenset()
    window_terms: frozenset[str] = frozenset()  # terms of the sentence and its neighbours


def candidates(passages: Sequence[Passage]) -> list[Candidate]:
    """Answer-worthy sentences of the passages, deduplicated by document position."""
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    for rank, p in enumerate(passages):
        if is_instruction(p.text):  # a passage that addresses the assistant is hostile: none of it is evidence
            continue
        spans = split_sentences(p.text)
        heading: frozenset[str] = frozenset()
        terms_at = [frozenset(content_terms(p.text[s:e])) for s, e in spans]
        for i, (s, e) in enumerate(spans):
            text = p.text[s:e]
            if text.lstrip().startswith("#"):
                heading = frozenset(content_terms(text.lstrip("# ")))
                continue
            end = e
            if text.rstrip().endswith(":"):  # a lead-in: quote the list that follows with it
                j = i + 1
                while j < len(spans) and j - i <= 8 and LIST_ITEM.match(p.text[spans[j][0] : spans[j][1]]):
                    end = spans[j][1]
                    j += 1
                if end == e:
                    continue
            key = (p.doc_id, p.start + s)
            if key in seen or len(words(p.text[s:end])) < 4 or is_instruction(p.text[s:end]):  # article text is data
                continue
            seen.add(key)
            terms = frozenset(content_terms(p.text[s:end]))
            window = terms.union(*terms_at[max(0, i - 1) : i + 2])
            out.append(Candidate(p, rank, s, end, p.text[s:end], terms, heading - terms, window))
    return out


def idf(cands: Sequence[Candidate], terms: Sequence[str]) -> dict[str, float]:
    """Inverse sentence frequency of each term over the candidates."""
    n = max(1, len(cands))
    return {t: math.log(1 + (n + 1) / (1 + sum(1 for c in cands if t in c.terms))) for t in terms}


def _cov(terms: Sequence[str], have: frozenset[str], weights: dict[str, float]) -> float:
    total = sum(weights.get(t, 1.0) for t in terms)
    return sum(weights.get(t, 1.0) for t in terms if t in have) / total if total else 0.0


def sentence_features(q: Question, cands: Sequence[Candidate], weights: dict[str, float]) -> list[list[float]]:
    """The SENTENCE_FEATURES row of every candidate (no embeddings needed)."""
    psims = [c.passage.similarity for c in cands if c.passage.similarity is not None]
    fill = (min(psims) - 0.05) if psims else 0.0
    typed = 1.0 if q.kind in TYPED_KINDS else 0.0
    passage_words: dict[str, set[str]] = {}
    rows = []
    for c in cands:
        p = c.passage
        if p.chunk_id not in passage_words:
            passage_words[p.chunk_id] = set(words(p.text)) | set(words(p.title))
        names = capitalized_names(c.text) | set(words(c.passage.title)) | set(words(c.text))
        spans = typed_spans(q.kind, c.text, q) if typed else []
        rows.append([
            _cov(q.terms, c.terms, weights),
            _cov(q.terms, c.terms, {}),
            _cov(q.terms, c.window_terms, weights),
            _cov(q.context_terms, c.terms, weights) if q.context_terms else 0.0,
            sum(1 for e in q.entities if e in names) / len(q.entities) if q.entities else 1.0,
            sum(1 for e in q.entities if e in passage_words[p.chunk_id]) / len(q.entities) if q.entities else 1.0,
            typed,
            typed * (1.0 if spans else 0.0),
            math.log1p(len(spans)),
            sum(1 for n in q.numbers if n in numbers(c.text)) / len(q.numbers) if q.numbers else 1.0,
            math.log(max(4, len(words(c.text)))),
            1.0 / (1 + c.rank),
            1.0 / p.dense_rank if p.dense_rank else 0.0,
            1.0 / p.bm25_rank if p.bm25_rank else 0.0,
            p.similarity if p.similarity is not None else fill,
            0.0 if p.similarity is not None else 1.0,
            _cov(q.terms, c.heading_terms, weights),
        ])
    return rows


def cheap_rows(q: Question, cands: Sequence[Candidate]) -> list[list[float]]:
    """The SENTENCE_FEATURES row of every candidate, idf-weighted over the candidates themselves."""
    return sentence_features(q, cands, idf(cands, list(q.terms) + list(q.context_terms)))


def dense_features(sims: Sequence[float]) -> list[list[float]]:
    """The DENSE_FEATURES rows from the question-sentence cosine similarities of the scored candidates."""
    if not sims:
        return []
    top = max(sims)
    order = sorted(range(len(sims)), key=lambda i: -sims[i])
    rank = {i: r for r, i in enumerate(order)}
    return [[s, s - top, 1.0 / (1 + rank[i])] for i, s in enumerate(sims)]


def sentence_rows(
    cheap: Sequence[Sequence[float]], sims: Sequence[float], ces: Sequence[float] | None
) -> list[list[float]]:
    """The SENTENCE_COLUMNS rows of the embedded candidates: cheap features, dense features, cross-encoder logit."""
    ce = list(ces) if ces is not None else [0.0] * len(sims)
    return [list(r) + d + [c] for r, d, c in zip(cheap, dense_features(sims), ce)]


def question_features(
    q: Question, passages: Sequence[Passage], cands: Sequence[Candidate], rows: Sequence[Sequence[float]],
    probs: Sequence[float], sims: Sequence[float], ces: Sequence[float] = (),
) -> list[float]:
    """The QUESTION_COLUMNS row: evidence for "the sources answer this" over the scored candidates.

    `rows`, `probs`, `sims` and `ces` are the scored candidates' sentence rows (SENTENCE_FEATURES first),
    sentence probabilities, similarities and cross-encoder logits, best first.
    """
    evidence: set[str] = set()
    for p in passages:
        evidence.update(words(p.text))
        evidence.update(words(p.title))
    ev_numbers = set().union(*(numbers(p.text) for p in passages)) if passages else set()
    col = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    p1 = probs[0] if probs else 0.0
    p2 = probs[1] if len(probs) > 1 else 0.0
    psims = [p.similarity for p in passages if p.similarity is not None]
    return [
        _logit(p1),
        _logit(p1) - _logit(p2),
        _logit(p2),
        max(sims) if sims else 0.0,
        max(psims) if psims else 0.0,
        passages[0].similarity if passages and passages[0].similarity is not None else (min(psims) if psims else 0.0),
        max((r[col["cov"]] for r in rows), default=0.0),
        rows[0][col["cov"]] if rows else 0.0,
        sum(1 for e in q.entities if e not in evidence) / len(q.entities) if q.entities else 0.0,
        sum(1 for n in q.numbers if n not in ev_numbers) / len(q.numbers) if q.numbers else 0.0,
        rows[0][col["type_fit"]] if rows else 0.0,
        1.0 if any(r[col["type_fit"]] for r in rows[:3]) else 0.0,
        math.log1p(len(q.terms)),
        float(len(q.entities)),
        *(1.0 if q.kind == k else 0.0 for k in KINDS),
        *_ce_summary(ces),
    ]


def _ce_summary(ces: Sequence[float]) -> list[float]:
    """ce_max and ce_gap (best logit minus the second best)."""
    if not ces:
        return [0.0, 0.0]
    top = sorted(ces, reverse=True)
    return [top[0], top[0] - top[1] if len(top) > 1 else 0.0]


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
