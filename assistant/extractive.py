"""The offline grounded answerer: picks the passage sentences that best answer the question.

Pure logic over retrieved passages. Every sentence it outputs is a verbatim quote with
its [n]; when the evidence does not answer the question it refuses plainly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.chunk import split_sentences
from assistant.citations import quote_citation
from assistant.lexical import (
    capitalized_names,
    content_terms,
    fold,
    has_date,
    has_duration,
    is_instruction,
    numbers,
    words,
)
from assistant.types import Citation, Passage

MIN_COVERAGE = 0.5  # share of the question's weighted terms the evidence must contain
MAX_SENTENCES = 3
SIMILARITY_WEIGHT = 1.0
RERANK = 4  # sentences re-scored with embedding similarity (the lexical best)
_QUESTION_WORDS = {"who", "whom", "whose", "what", "when", "where", "why", "how", "which"}
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass(frozen=True)
class Question:
    """What the answerer understood of a question."""

    text: str
    kind: str
    terms: tuple[str, ...]
    context_terms: tuple[str, ...]
    entities: tuple[str, ...]
    numbers: tuple[str, ...]


def analyse(question: str, context: str = "") -> Question:
    """Question type, weighted terms, named entities and numbers."""
    low = fold(question).strip()
    first = words(low)[:3]
    kind = "thing"
    if re.match(r"^\s*(who|whom|whose)\b", low) or re.search(r"\bwhich (person|official|leader|aide)\b", low):
        kind = "person"
    elif re.search(r"\bhow long\b|\bfor how many (hours|days|weeks|months|years)\b", low):
        kind = "duration"
    elif re.search(r"\bhow (many|much)\b|\bwhat (number|percentage|share)\b", low):
        kind = "number"
    elif re.match(r"^\s*when\b", low) or re.search(r"\bwhat (date|day|year|month|time)\b", low):
        kind = "date"
    elif re.match(r"^\s*where\b", low):
        kind = "place"
    elif re.match(r"^\s*why\b", low) or re.search(r"\bwhat (is|was|are) the reason\b", low):
        kind = "reason"
    elif first and first[0] in {"is", "are", "was", "were", "do", "does", "did", "can", "could", "will",
                                 "would", "has", "have", "had", "should"}:
        kind = "yesno"
    names = {n for n in capitalized_names(question) if n not in _QUESTION_WORDS}
    drop = _QUESTION_WORDS | ({"last", "take", "took"} if kind == "duration" else set())
    terms = tuple(t for t in content_terms(question) if t not in drop)
    ctx = tuple(t for t in content_terms(context) if t not in terms and t not in _QUESTION_WORDS)
    return Question(question, kind, terms, ctx, tuple(sorted(names)), tuple(sorted(numbers(question))))


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


def candidates(passages: Sequence[Passage]) -> list[Candidate]:
    """Answer-worthy sentences of the passages, deduplicated by document position."""
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    for rank, p in enumerate(passages):
        spans = split_sentences(p.text)
        heading: frozenset[str] = frozenset()
        for i, (s, e) in enumerate(spans):
            text = p.text[s:e]
            if text.lstrip().startswith("#"):
                heading = frozenset(content_terms(text.lstrip("# ")))
                continue
            end = e
            if text.rstrip().endswith(":"):  # a lead-in: quote the list that follows with it
                j = i + 1
                while j < len(spans) and j - i <= 8 and _LIST_ITEM.match(p.text[spans[j][0] : spans[j][1]]):
                    end = spans[j][1]
                    j += 1
                if end == e:
                    continue
            key = (p.doc_id, p.start + s)
            if key in seen or len(words(p.text[s:end])) < 4 or is_instruction(p.text[s:end]):  # article text is data
                continue
            seen.add(key)
            terms = frozenset(content_terms(p.text[s:end]))
            out.append(Candidate(p, rank, s, end, p.text[s:end], terms, heading - terms))
    return out


def _idf(cands: Sequence[Candidate], terms: Sequence[str]) -> dict[str, float]:
    n = max(1, len(cands))
    return {t: math.log(1 + (n + 1) / (1 + sum(1 for c in cands if t in c.terms))) for t in terms}


def _type_fit(q: Question, c: Candidate) -> float:
    text = c.text
    match q.kind:
        case "person":
            return 1.0 if capitalized_names(text) - set(q.entities) else 0.0
        case "date":
            return 1.0 if has_date(text) else 0.0
        case "duration":
            return 1.0 if has_duration(text) else 0.0
        case "number":
            return 1.0 if numbers(text) - set(q.numbers) else 0.0
        case "place":
            return 1.0 if capitalized_names(text) - set(q.entities) else 0.0
        case "reason":
            return 1.0 if re.search(r"\b(because|since|so that|in order|due to|for him|believes?|sees?)\b", fold(text)) else 0.5
    return 0.5


def score(q: Question, c: Candidate, idf: dict[str, float], similarity: float = 0.0) -> tuple[float, float]:
    """(total score, weighted coverage of the question's terms) for one sentence.

    `similarity` is the cosine similarity of question and sentence embeddings, when known.
    """
    total_w = sum(idf[t] for t in q.terms) or 1.0
    coverage = (
        sum(idf[t] for t in q.terms if t in c.terms) + 0.5 * sum(idf[t] for t in q.terms if t in c.heading_terms)
    ) / total_w
    ctx_w = sum(idf[t] for t in q.context_terms) or 1.0
    ctx_cov = sum(idf[t] for t in q.context_terms if t in c.terms) / ctx_w if q.context_terms else 0.0
    names = capitalized_names(c.text) | set(words(c.passage.title))
    entity = sum(1 for e in q.entities if e in names or e in words(c.text)) / len(q.entities) if q.entities else 0.0
    length_penalty = 0.1 if len(words(c.text)) > 60 else 0.0
    total = (
        coverage + 0.35 * ctx_cov + 0.3 * _type_fit(q, c) + 0.4 * entity + 0.1 / (1 + c.rank)
        + SIMILARITY_WEIGHT * similarity - length_penalty
    )
    return total, coverage + 0.5 * ctx_cov * (1 - coverage)


def refusal(question: str, passages: Sequence[Passage]) -> str:
    """A plain refusal that says what the sources do cover (titles only, no claims)."""
    q = " ".join(question.split())
    text = f"The sources don't say. None of the retrieved passages answers “{q}”"
    titles: list[str] = []
    for p in passages:
        if p.title and p.title not in titles:
            titles.append(p.title)
    if titles:
        text += ". The closest articles are: " + "; ".join(f"“{t}”" for t in titles[:3])
    return text + "."


Similarity = Callable[[str, Sequence[str]], Sequence[float]]
Scored = tuple[tuple[float, float], Candidate]


def rank(
    q: Question, cands: Sequence[Candidate], idf: dict[str, float], question: str, similarity: Similarity | None
) -> list[Scored]:
    """Sentences best first: by lexical score, the lexical top RERANK re-scored with embedding similarity.

    Embedding a handful of sentences, not all, keeps answer() fast; re-scoring all gave the
    same eval results on both datasets (benchmarks/README.md).
    """
    order = sorted(((score(q, c, idf), c) for c in cands), key=lambda x: (-x[0][0], x[1].rank, x[1].start))
    head, tail = order[:RERANK], order[RERANK:]
    if similarity and head:
        sims = similarity(question, [c.text for _, c in head])
        head = sorted(
            (((s + SIMILARITY_WEIGHT * sim, cov), c) for ((s, cov), c), sim in zip(head, sims)),
            key=lambda x: (-x[0][0], x[1].rank, x[1].start),
        )
    return head + tail


def compose(
    question: str, passages: Sequence[Passage], *, context: str = "", similarity: Similarity | None = None
) -> tuple[str, list[Citation], bool]:
    """Answer from the passages: (text with [n] markers, citations, refused).

    `similarity(question, sentences)` gives embedding similarities used as one ranking
    signal; without it, ranking is lexical only.
    """
    q = analyse(question, context)
    cands = candidates(passages)
    if not cands or not (q.terms or q.context_terms):
        return refusal(question, passages), [], True
    evidence_words = set()
    for p in passages:
        evidence_words.update(words(p.text))
        evidence_words.update(words(p.title))
    missing = [e for e in q.entities if e not in evidence_words]
    if missing:
        return refusal(question, passages), [], True
    idf = _idf(cands, list(q.terms) + list(q.context_terms))
    scored = rank(q, cands, idf, question, similarity)
    (best_score, best_cov), best = scored[0]
    if best_cov < MIN_COVERAGE:
        return refusal(question, passages), [], True
    if q.kind in ("date", "duration", "number") and _type_fit(q, best) == 0.0:
        typed = [x for x in scored if _type_fit(q, x[1]) > 0 and x[0][1] >= MIN_COVERAGE]
        if not typed:
            return refusal(question, passages), [], True
        (best_score, best_cov), best = typed[0]
    if any(n not in numbers(best.text) for n in q.numbers) and not any(
        all(n in numbers(c.text) for n in q.numbers) for _, c in scored[:5]
    ):
        return refusal(question, passages), [], True
    chosen = [best]
    covered = set(best.terms)
    limit = 1 if q.kind in ("date", "duration", "number", "person", "place") else MAX_SENTENCES
    for (s, cov), c in scored[1:]:
        if len(chosen) >= limit:
            break
        if s < 0.8 * best_score or cov < MIN_COVERAGE:
            break
        overlap = len(c.terms & covered) / max(1, len(c.terms))
        if overlap > 0.7 or fold(c.text) in {fold(x.text) for x in chosen}:
            continue
        chosen.append(c)
        covered |= c.terms
    chosen.sort(key=lambda c: (c.passage.doc_id, c.passage.start + c.start))
    parts: list[str] = []
    citations: list[Citation] = []
    for n, c in enumerate(chosen, start=1):
        citations.append(quote_citation(n, c.passage, c.start, c.end))
        parts.append(f"{_render(c.text)} [{n}]")
    return " ".join(parts), citations, False


def _render(quote: str) -> str:
    """Quote text as one answer sentence: list lines joined with semicolons, final stop ensured."""
    lines = [line.strip() for line in quote.split("\n") if line.strip()]
    if len(lines) > 1:
        head, items = lines[0], [_LIST_ITEM.sub("", item).rstrip(".;") for item in lines[1:]]
        text = f"{head} {'; '.join(items)}"
    else:
        text = _LIST_ITEM.sub("", lines[0]) if lines else quote.strip()
    text = text.rstrip()
    if text and text[-1] not in ".!?”\"'":
        text += "."
    return text
