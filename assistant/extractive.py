"""The offline grounded answerer: picks the passage sentences that answer the question, or refuses.

Every sentence it outputs is a verbatim quote with its [n]. Which sentences, and whether to
answer at all, is decided by small logistic models (assistant/answerability.py) fitted on the
development articles by evals/train_answerability.py, over features that survive rewording:
question-sentence and question-passage embedding similarity, typed answers (names, dates,
numbers, durations), entity and stemmed lexical coverage, retrieval ranks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant.answerability import Logistic, Models, load
from assistant.citations import quote_citation
from assistant.features import (
    LIST_ITEM,
    QUESTION_COLUMNS,
    SENTENCE_COLUMNS,
    Candidate,
    candidates,
    cheap_rows,
    question_features,
    sentence_rows,
)
from assistant.lexical import capitalized_names, fold, words
from assistant.lexicon import is_demonym
from assistant.lexicon import load as load_lexicon
from assistant.question import Question, analyse, parts, typed_spans
from assistant.types import Citation, Passage

MAX_SENTENCES = 3
SHORT_KINDS = ("person", "place", "date", "duration", "number")

Similarity = Callable[[str, Sequence[str]], Sequence[float]]
Search = Callable[[str], Sequence[Passage]]  # the passages a search for one part of a question finds
Scorer = Callable[[str, Sequence[str]], Sequence[float]]  # cross-encoder logits of (question, sentence) pairs


@dataclass(frozen=True)
class Scored:
    """One candidate with its sentence probability and question similarity."""

    cand: Candidate
    prob: float
    sim: float


@dataclass(frozen=True)
class Ranking:
    """Candidates best first and the probability that the sources answer the question."""

    question: Question
    scored: list[Scored]
    answerable: float
    question_row: list[float] = field(default_factory=list)


def embed_order(
    q: Question, cands: Sequence[Candidate], stage1: Logistic, top: int, rows: list[list[float]] | None = None
) -> tuple[list[int], list[list[float]]]:
    """Indices of the `top` candidates stage 1 rates best (the ones worth embedding), and every candidate's cheap row.

    `rows`: the candidates' cheap_rows when the caller has them already (training reuses them across folds).
    """
    rows = rows if rows is not None else cheap_rows(q, cands)
    first = stage1.predict(rows)
    order = sorted(range(len(cands)), key=lambda i: (-first[i], cands[i].rank, cands[i].start))[:top]
    return order, rows


def embedded_rows(
    q: Question, cands: Sequence[Candidate], stage1: Logistic, top: int, similarity: Similarity | None,
    scorer: Scorer | None, rows: list[list[float]] | None = None,
) -> tuple[list[int], list[list[float]], list[float], list[float]]:
    """(indices, SENTENCE_COLUMNS rows, similarities, cross-encoder logits) of the candidates the sentence model scores."""
    order, rows = embed_order(q, cands, stage1, top, rows)
    texts = [cands[i].text for i in order]
    qtext = q.text if not q.context_terms else f"{q.text} {' '.join(q.context_terms)}"
    sims = list(similarity(qtext, texts)) if similarity and texts else [0.0] * len(texts)
    ces = list(scorer(qtext, texts)) if scorer and texts else [0.0] * len(texts)
    return order, sentence_rows([rows[i] for i in order], sims, ces), sims, ces


def score(
    q: Question, passages: Sequence[Passage], cands: Sequence[Candidate], similarity: Similarity | None,
    scorer: Scorer | None, stage1: Logistic, sentence: Logistic, top: int, rows: list[list[float]] | None = None,
) -> tuple[list[Scored], list[float]]:
    """The scored candidates best first and the question model's feature row (QUESTION_COLUMNS)."""
    order, full, sims, ces = embedded_rows(q, cands, stage1, top, similarity, scorer, rows)
    probs = sentence.predict_columns(SENTENCE_COLUMNS, full)
    best = sorted(range(len(order)), key=lambda j: (-probs[j], cands[order[j]].rank, cands[order[j]].start))
    scored = [Scored(cands[order[j]], float(probs[j]), sims[j]) for j in best]
    qrow = question_features(q, passages, [s.cand for s in scored], [full[j] for j in best], [s.prob for s in scored],
                             [s.sim for s in scored], [ces[j] for j in best])
    return scored, qrow


def rank(
    q: Question, passages: Sequence[Passage], cands: Sequence[Candidate], similarity: Similarity | None,
    models: Models | None = None, scorer: Scorer | None = None,
) -> Ranking:
    """Score the candidates (embeddings and cross-encoder for the `embed_top` best only), then the question model."""
    m = models or load()
    if not cands:
        return Ranking(q, [], 0.0)
    scored, qrow = score(q, passages, cands, similarity, scorer, m.stage1, m.sentence, m.embed_top)
    return Ranking(q, scored, float(m.question.predict_columns(QUESTION_COLUMNS, [qrow])[0]), qrow)


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


def _missing_entity(q: Question, passages: Sequence[Passage]) -> bool:
    """True when the question names something (a capitalised name) no retrieved passage or title mentions.

    A demonym ("the American push", "Europeans") describes rather than names: the sources may say
    "US-led" or "Europe's", so its absence alone does not refuse (the models still weigh it).
    """
    evidence: set[str] = set()
    for p in passages:
        evidence.update(words(p.text))
        evidence.update(words(p.title))
    return any(e not in evidence and not is_demonym(e) for e in q.entities)


def _names(text: str) -> set[str]:
    return capitalized_names(text)


def select(r: Ranking, models: Models | None = None) -> list[Candidate]:
    """The sentences that answer: the best, plus those that add a missing name, person or strong evidence."""
    m = models or load()
    if not r.scored:
        return []
    q = r.question
    best = r.scored[0]
    chosen = [best.cand]
    covered_entities = {e for e in q.entities if e in _names(best.cand.text) or e in words(best.cand.text)}
    limit = 1 if q.kind in SHORT_KINDS and not q.plural else MAX_SENTENCES
    for s in r.scored[1:]:
        if len(chosen) >= MAX_SENTENCES:
            break
        c = s.cand
        if fold(c.text) in {fold(x.text) for x in chosen}:
            continue
        overlap = len(c.terms & set().union(*(x.terms for x in chosen))) / max(1, len(c.terms))
        adds_entity = any(e not in covered_entities and (e in _names(c.text) or e in words(c.text)) for e in q.entities)
        # "who": a second sentence naming someone else, when the model rates it close (the role may be there)
        plural_person = q.kind == "person" and len(chosen) < 2 and bool(typed_spans("person", c.text, q))
        strong = len(chosen) < limit and s.prob >= m.extra_ratio * best.prob and overlap <= 0.7
        if (adds_entity and s.prob >= 0.5 * best.prob) or (plural_person and s.prob >= 0.5 * best.prob) or strong:
            chosen.append(c)
            covered_entities |= {e for e in q.entities if e in _names(c.text) or e in words(c.text)}
    return chosen


def short_answer(q: Question, c: Candidate) -> tuple[int, int] | None:
    """Passage-relative offsets of the one span of the asked type in the sentence, if there is exactly one."""
    if q.kind not in SHORT_KINDS or q.plural:
        return None
    spans = typed_spans(q.kind, c.text, q)
    if len(spans) != 1:
        return None
    s, e = spans[0]
    if q.kind == "number":
        s, e = whole_figure(c.text, s, e)
    if e - s < 2 or len(words(c.text[s:e])) > 6:
        return None
    return c.start + s, c.start + e


_SCALE_WORD = re.compile(r"(?:hundred|thousand|million|billion|trillion)\b", re.I)
_NOT_COUNTED = {"after", "before", "over", "into", "as", "than", "when", "while", "since", "until", "per", "each",
                "more", "less", "up", "down", "off", "out", "last", "next", "this", "that", "it", "its", "their"}


def whole_figure(text: str, s: int, e: int) -> tuple[int, int]:
    """A number span of `text` as a reader wants it up front.

    With its currency and digits ("KSh18 million", "NZ$4.2 million"), without a word after it that is not what
    it counts ("… million after", "… million repairing").
    """
    if _SCALE_WORD.match(text, s) and (m := re.search(r"\S*\d\S*\s+$", text[:s])):
        s = m.start()  # "KSh18 million": the scale word alone is not the figure
    if m := re.search(r"(?:[A-Z][A-Za-z]{0,2})?[$€£¥₹]?$", text[:s]):
        s = m.start() if m.group() and (s == len(text) or not text[s - 1].isspace()) else s
    tail = re.search(r"[ -]([a-z]+)$", text[s:e])
    if tail and not _SCALE_WORD.fullmatch(tail.group(1)) and (
        tail.group(1) in _NOT_COUNTED or not any("n" in pos for _, pos in load_lexicon().forms(tail.group(1)))
    ):
        e -= len(tail.group())
    return s, e


@dataclass
class Composed:
    """The offline answer: text with [n] markers, its citations, whether it refused, and notes."""

    text: str
    citations: list[Citation]
    refused: bool
    notes: list[str] = field(default_factory=list)
    refusal_score: float | None = None  # 1 - the answerability model's probability (the best part's, if several)
    passages: list[Passage] = field(default_factory=list)  # every passage read: the question's, then its parts' own


def answer(
    question: str, passages: Sequence[Passage], *, context: str = "", similarity: Similarity | None = None,
    models: Models | None = None, scorer: Scorer | None = None, search: Search | None = None,
) -> Composed:
    """Answer from the passages, part by part for a multi-part question; refuse when the model says so.

    `search`: when given, each part of a multi-part question is also searched for on its own, and ranks
    its own passages first: one search for "X, and Y?" often finds only X's passages.
    """
    out = _answer(question, passages, context, similarity, models or load(), scorer, search)
    if not out.passages:
        out.passages = list(passages)
    return out


_LEANS_BACK = re.compile(r"\b(it|its|they|them|their|he|him|his|she|her|this|these|those)\b", re.IGNORECASE)


def part_query(part: str, question: str) -> str:
    """What to search for one part: the part alone, or with the question when it leans on a pronoun ("how is it funded?")."""
    return f"{part} {question}" if _LEANS_BACK.search(part) else part


def own_first(found: Sequence[Passage], passages: Sequence[Passage]) -> list[Passage]:
    """A part's own passages first, then the question's, each once."""
    seen: set[str] = set()
    return [p for p in [*found, *passages] if not (p.chunk_id in seen or seen.add(p.chunk_id))]  # type: ignore[func-returns-value]


def _answer(
    question: str, passages: Sequence[Passage], context: str, similarity: Similarity | None, m: Models,
    scorer: Scorer | None, search: Search | None,
) -> Composed:
    cands = candidates(passages)
    q = analyse(question, context)
    if not cands or not (q.terms or q.context_terms) or _missing_entity(q, passages):
        return Composed(refusal(question, passages), [], True, refusal_score=1.0)
    pieces = parts(question) if not context else [question]
    if len(pieces) == 1:
        r = rank(q, passages, cands, similarity, m, scorer)
        if r.answerable < m.threshold:
            return Composed(refusal(question, passages), [], True, refusal_score=1.0 - r.answerable)
        chosen = select(r, m)
        out = _render_answer([(chosen, r.question)], passages)
        out.refusal_score = 1.0 - r.answerable
        return out
    groups: list[tuple[list[Candidate], Question]] = []
    missing: list[str] = []
    best = 0.0
    read = list(passages)
    for piece in pieces:
        pq = analyse(piece, f"{context} {question}".strip())
        own, own_cands = passages, cands
        if search is not None:
            own = own_first(search(part_query(piece, question)), passages)
            own_cands = candidates(own)
            read = own_first(read, own)
        r = rank(pq, own, own_cands, similarity, m, scorer)
        best = max(best, r.answerable)
        if r.answerable < m.threshold or not r.scored:
            missing.append(piece)
            continue
        groups.append((select(r, m)[:2], pq))
    if not groups:
        return Composed(refusal(question, passages), [], True, refusal_score=1.0 - best, passages=read)
    out = _render_answer(groups, passages)
    out.notes = [f"The sources don't say: {p}" for p in missing]
    out.refusal_score = 1.0 - best
    out.passages = read
    return out


def _render_answer(groups: Sequence[tuple[list[Candidate], Question]], passages: Sequence[Passage]) -> Composed:
    """Number the chosen sentences best first (part by part) and write the text, a short answer first when there is one.

    Best first, not document order: "Who did Trump send to Moscow?" opens with the envoys' sentence, and the LLM
    path, which reads first the passage the offline answer cites first, sees that passage first.
    """
    del passages
    seen: dict[tuple[str, int], Candidate] = {}
    for chosen, _ in groups:
        for c in chosen:
            seen.setdefault((c.passage.doc_id, c.passage.start + c.start), c)
    ordered = list(seen.values())
    number = {(c.passage.doc_id, c.passage.start + c.start): n for n, c in enumerate(ordered, start=1)}
    citations = [quote_citation(n, c.passage, c.start, c.end) for n, c in enumerate(ordered, start=1)]
    leads: list[str] = []
    for chosen, q in groups:
        if not chosen:
            continue
        best = chosen[0]
        span = short_answer(q, best)
        if span is None:
            continue
        n = number[(best.passage.doc_id, best.passage.start + best.start)]
        s, e = span
        cit = citations[n - 1]
        citations[n - 1] = Citation(**{**cit.to_dict(), "answer_start": best.passage.start + s,
                                       "answer_end": best.passage.start + e})
        text = best.passage.text[s:e]
        leads.append(f"{text[0].upper()}{text[1:]} [{n}].")
    body = " ".join(f"{_render(c.text)} [{number[(c.passage.doc_id, c.passage.start + c.start)]}]" for c in ordered)
    return Composed(" ".join([*leads, body]), citations, False)


def compose(
    question: str, passages: Sequence[Passage], *, context: str = "", similarity: Similarity | None = None
) -> tuple[str, list[Citation], bool]:
    """Answer from the passages: (text with [n] markers, citations, refused)."""
    out = answer(question, passages, context=context, similarity=similarity)
    return out.text, out.citations, out.refused


def _render(quote: str) -> str:
    """Quote text as one answer sentence: list lines joined with semicolons, final stop ensured."""
    lines = [line.strip() for line in quote.split("\n") if line.strip()]
    if len(lines) > 1:
        head, items = lines[0], [LIST_ITEM.sub("", item).rstrip(".;") for item in lines[1:]]
        text = f"{head} {'; '.join(items)}"
    else:
        text = LIST_ITEM.sub("", lines[0]) if lines else quote.strip()
    text = text.rstrip()
    if text and text[-1] not in ".!?”\"'":
        text += "."
    return text
