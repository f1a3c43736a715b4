"""Pure eval metrics: retrieval, answer correctness, ALCE citation quality, faithfulness, refusals.

Every function works on plain data (strings, lists, Answers) and takes the support
judge as a parameter, so the metrics are testable without a model or a store.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant import judge
from assistant.aliases import for_judging, phrases_of
from assistant.attribution import attributed_claim, split_attributions
from assistant.citations import answer_sentences
from assistant.lexical import fold
from assistant.types import Answer

Support = Callable[[str, str], bool]


def supports(sentence: str, passage: str) -> bool:
    """The support judge, looked up at call time (`assistant.judge.supports`), so a replaced judge is seen."""
    return judge.supports(sentence, passage)

SUMMARY_KEYS = (
    "n_questions", "hit_at_1", "hit_at_5", "hit_at_10", "mrr_at_10", "answer_accuracy", "answer_f1",
    "citation_precision", "citation_recall", "faithfulness", "refusal_precision", "refusal_recall",
)
_MARKER = re.compile(r"\s*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\]")

# -- retrieval ------------------------------------------------------------------------------------


def hit_at_k(relevant: Sequence[bool], k: int) -> float:
    """1.0 when any of the first k ranked items is relevant."""
    return 1.0 if any(relevant[:k]) else 0.0


def reciprocal_rank(relevant: Sequence[bool], k: int = 10) -> float:
    """1 / rank of the first relevant item within the first k, else 0."""
    for rank, rel in enumerate(relevant[:k], start=1):
        if rel:
            return 1.0 / rank
    return 0.0


def _norm_space(text: str) -> str:
    return " ".join(fold(text).split())


def passage_matches_quote(passage: str, quote: str, min_words: int = 8) -> bool:
    """True when a passage contains a gold quote or overlaps it by a run of `min_words` words.

    The overlap rule catches quotes that a chunk boundary cut in two.
    """
    p, q = _norm_space(passage), _norm_space(quote)
    if not q:
        return False
    if q in p or p in q:
        return True
    tokens = q.split()
    run = min(min_words, len(tokens))
    return any(" ".join(tokens[i : i + run]) in p for i in range(len(tokens) - run + 1))


# -- correctness ------------------------------------------------------------------------------------


def strip_markers(text: str) -> str:
    """Answer text without its [n] citation markers."""
    return _MARKER.sub("", text).strip()


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, drop punctuation and articles, squeeze spaces."""
    text = fold(strip_markers(text))
    text = "".join(" " if ch in string.punctuation or ch in "“”‘’—–" else ch for ch in text)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD exact match: 1.0 when the normalised prediction equals any normalised gold answer."""
    pred = normalize_answer(prediction)
    return 1.0 if any(pred == normalize_answer(g) for g in golds) else 0.0


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token F1, the best over the gold answers."""
    pred = normalize_answer(prediction).split()
    best = 0.0
    for gold in golds:
        ref = normalize_answer(gold).split()
        common = sum((Counter(pred) & Counter(ref)).values())
        if not pred or not ref or common == 0:
            continue
        p, r = common / len(pred), common / len(ref)
        best = max(best, 2 * p * r / (p + r))
    return best


def fact_present(fact: str, text: str) -> bool:
    """True when any alternative of `fact` ("five hours|5 hours") occurs in text, ignoring case and spacing."""
    hay = _norm_space(strip_markers(text))
    return any(_norm_space(alt) in hay for alt in fact.split("|") if alt.strip())


def facts_present(facts: Sequence[str], text: str) -> float:
    """1.0 when every required fact occurs in the answer text."""
    return 1.0 if all(fact_present(f, text) for f in facts) else 0.0


def quote_has_answer(answer: Answer, facts: Sequence[str], answers: Sequence[str] = ()) -> float:
    """1.0 when the answer's cited quotes, together, hold the gold answer (every required fact, or a gold answer).

    Unlike citation precision, which a verbatim quote always earns, this fails when the answerer quotes the
    wrong sentence.
    """
    quotes = "\n".join(c.quote for c in answer.citations)
    if facts:
        return facts_present(facts, quotes)
    return 1.0 if any(fact_present(a, quotes) for a in answers) else 0.0


# -- citations (ALCE, Gao et al. 2023) ------------------------------------------------------------------


@dataclass(frozen=True)
class CitedSentence:
    """One answer sentence with the texts of the passages its [n] markers cite, in order."""

    text: str
    cited: tuple[str, ...]
    markers: tuple[int, ...] = ()


@dataclass
class CitationScore:
    """ALCE citation recall and precision of one answer, with per-sentence verdicts."""

    recall: float
    precision: float
    n_sentences: int
    n_supported: int
    n_citations: int
    n_precise: int
    sentences: list[dict[str, Any]] = field(default_factory=list)


def cited_sentences(answer: Answer) -> list[CitedSentence]:
    """Split an answer into sentences and resolve each [n] to the text of the retrieved passage it quotes.

    When the cited chunk is not among the answer's passages the quote itself stands in. An attributed
    sentence ("The Herald (3 June 2025) reports five hours [1]") is judged as its claim when the outlet and
    date are [1]'s article's (assistant.attribution).
    """
    by_n = {c.n: c for c in answer.citations}
    passages = {p.chunk_id: p for p in answer.passages}
    out = []
    for sentence, nums in answer_sentences(split_attributions(answer.text)):
        cited = []
        for n in nums:
            c = by_n.get(n)
            if c is not None:
                cited.append(passages[c.chunk_id].text if c.chunk_id in passages else c.quote)
        one = [by_n[n] for n in dict.fromkeys(nums) if n in by_n]
        if len(one) == 1 and one[0].chunk_id in passages:
            sentence = attributed_claim(sentence, passages[one[0].chunk_id]) or sentence
        out.append(CitedSentence(sentence, tuple(cited), tuple(nums)))
    return out


def answer_support(answer: Answer) -> Support:
    """The support judge as the verifier applies it to this answer: names read with its articles' full names."""
    phrases = phrases_of(answer.passages)
    return lambda sentence, passage: supports(*for_judging(sentence, passage, phrases))


def citation_scores(sentences: Sequence[CitedSentence], support: Support = supports) -> CitationScore:
    """ALCE citation recall and precision for one answer.

    Recall: share of sentences that have citations and whose concatenated cited passages
    support them. Precision: share of citations that are not irrelevant, where a citation is
    irrelevant when it alone does not support its sentence while the sentence's remaining
    citations do; citations of unsupported sentences never count as precise.
    """
    n_supported = n_citations = n_precise = 0
    verdicts: list[dict[str, Any]] = []
    for s in sentences:
        joint = bool(s.cited) and support(s.text, "\n".join(s.cited))
        precise: list[bool] = []
        for i, passage in enumerate(s.cited):
            if not joint:
                precise.append(False)
            elif len(s.cited) == 1 or support(s.text, passage):
                precise.append(True)
            else:
                rest = "\n".join(p for j, p in enumerate(s.cited) if j != i)
                precise.append(not support(s.text, rest))
        n_supported += joint
        n_citations += len(s.cited)
        n_precise += sum(precise)
        verdicts.append({"sentence": s.text, "markers": list(s.markers), "supported": joint, "precise": precise})
    recall = n_supported / len(sentences) if sentences else 0.0
    precision = n_precise / n_citations if n_citations else 0.0
    return CitationScore(recall, precision, len(sentences), n_supported, n_citations, n_precise, verdicts)


# -- refusals and aggregation --------------------------------------------------------------------------


def refusal_scores(refused: Sequence[bool], unanswerable: Sequence[bool]) -> tuple[float | None, float | None]:
    """(precision, recall) of refusing, with unanswerable questions as the positive class; None when undefined."""
    tp = sum(1 for r, u in zip(refused, unanswerable) if r and u)
    n_refused, n_unanswerable = sum(refused), sum(unanswerable)
    precision = tp / n_refused if n_refused else None
    recall = tp / n_unanswerable if n_unanswerable else None
    return precision, recall


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


@dataclass
class QuestionScores:
    """Every metric of one question; None where a metric does not apply to it."""

    answerable: bool
    refused: bool
    hit_at_1: float | None = None
    hit_at_5: float | None = None
    hit_at_10: float | None = None
    rr_at_10: float | None = None
    passage_hit_at_1: float | None = None
    passage_hit_at_5: float | None = None
    passage_hit_at_10: float | None = None
    passage_rr_at_10: float | None = None
    accuracy: float | None = None
    exact_match: float | None = None
    f1: float | None = None
    quote_has_answer: float | None = None
    refusal_score: float | None = None
    style: str | None = None
    citations: CitationScore | None = None


def score_question(
    answer: Answer,
    *,
    answerable: bool,
    ranked_docs: Sequence[str],
    ranked_texts: Sequence[str],
    gold_docs: Sequence[str] = (),
    gold_quotes: Sequence[str] = (),
    answers: Sequence[str] = (),
    facts: Sequence[str] = (),
    style: str | None = None,
    support: Support | None = None,
) -> QuestionScores:
    """All metrics of one answered question; retrieval is scored on the ranked doc ids and passage texts.

    `support` judges citations; by default the offline judge as the verifier applies it (`answer_support`).
    """
    s = QuestionScores(answerable=answerable, refused=answer.refused, style=style,
                       refusal_score=getattr(answer, "refusal_score", None))
    if answerable and gold_docs:
        rel = [d in set(gold_docs) for d in ranked_docs]
        s.hit_at_1, s.hit_at_5, s.hit_at_10 = hit_at_k(rel, 1), hit_at_k(rel, 5), hit_at_k(rel, 10)
        s.rr_at_10 = reciprocal_rank(rel, 10)
    if answerable and gold_quotes:
        rel = [any(passage_matches_quote(t, q) for q in gold_quotes) for t in ranked_texts]
        s.passage_hit_at_1, s.passage_hit_at_5, s.passage_hit_at_10 = hit_at_k(rel, 1), hit_at_k(rel, 5), hit_at_k(rel, 10)
        s.passage_rr_at_10 = reciprocal_rank(rel, 10)
    prediction = "" if answer.refused else answer.text
    if answerable:
        s.accuracy = 0.0 if answer.refused else facts_present(facts or answers[:1], prediction)
        if answers:
            s.exact_match, s.f1 = exact_match(prediction, answers), token_f1(prediction, answers)
        if not answer.refused and (facts or answers):
            s.quote_has_answer = quote_has_answer(answer, facts, answers)
    if not answer.refused:
        s.citations = citation_scores(cited_sentences(answer), support or answer_support(answer))
    return s


def summarize(scores: Sequence[QuestionScores]) -> dict[str, Any]:
    """The summary object: exactly SUMMARY_KEYS, None where a metric does not apply."""
    cited = [s.citations for s in scores if s.citations is not None]
    n_sent = sum(c.n_sentences for c in cited)
    refusal_p, refusal_r = refusal_scores([s.refused for s in scores], [not s.answerable for s in scores])
    summary: dict[str, Any] = {
        "n_questions": len(scores),
        "hit_at_1": mean(s.hit_at_1 for s in scores),
        "hit_at_5": mean(s.hit_at_5 for s in scores),
        "hit_at_10": mean(s.hit_at_10 for s in scores),
        "mrr_at_10": mean(s.rr_at_10 for s in scores),
        "answer_accuracy": mean(s.accuracy for s in scores),
        "answer_f1": mean(s.f1 for s in scores),
        "citation_precision": mean(c.precision for c in cited),
        "citation_recall": mean(c.recall for c in cited),
        "faithfulness": sum(c.n_supported for c in cited) / n_sent if n_sent else None,
        "refusal_precision": refusal_p,
        "refusal_recall": refusal_r,
    }
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in summary.items()}


def extra_summary(scores: Sequence[QuestionScores]) -> dict[str, float | None]:
    """Metrics reported beside the summary.

    Gold-passage retrieval, exact match, quotes holding the answer, and per question style (when the
    dataset gives styles): answer accuracy of the answerable questions, refusal recall
    of the unanswerable ones (`answer_accuracy_reworded`, `refusal_recall_unanswerable_ontopic`, ...).
    """
    out = {
        "passage_hit_at_1": mean(s.passage_hit_at_1 for s in scores),
        "passage_hit_at_5": mean(s.passage_hit_at_5 for s in scores),
        "passage_hit_at_10": mean(s.passage_hit_at_10 for s in scores),
        "passage_mrr_at_10": mean(s.passage_rr_at_10 for s in scores),
        "exact_match": mean(s.exact_match for s in scores),
        "quote_has_answer": mean(s.quote_has_answer for s in scores),
    }
    for style in sorted({s.style for s in scores if s.style}):
        subset, key = [s for s in scores if s.style == style], style.replace("-", "_")
        if any(s.answerable for s in subset):
            out[f"answer_accuracy_{key}"] = mean(s.accuracy for s in subset)
        if not all(s.answerable for s in subset):
            out[f"refusal_recall_{key}"] = refusal_scores([s.refused for s in subset], [not s.answerable for s in subset])[1]
    return {k: (round(v, 4) if v is not None else None) for k, v in out.items()}


# -- judge validation ------------------------------------------------------------------------------------


def judge_validation(pairs: Sequence[dict[str, Any]], support: Support = supports) -> dict[str, Any]:
    """Precision, recall, F1 and accuracy of a support judge on labelled pairs ({sentence, passage, label, kind}).

    "Positive" means "the passage supports the sentence"; per-kind accuracy and the misjudged ids are listed too.
    """
    predicted = [support(p["sentence"], p["passage"]) for p in pairs]
    labels = [bool(p["label"]) for p in pairs]
    tp = sum(1 for y, p in zip(labels, predicted) if y and p)
    fp = sum(1 for y, p in zip(labels, predicted) if not y and p)
    fn = sum(1 for y, p in zip(labels, predicted) if y and not p)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    kinds: dict[str, list[bool]] = {}
    for pair, y, p in zip(pairs, labels, predicted):
        kinds.setdefault(str(pair.get("kind", "?")), []).append(y == p)
    return {
        "n_pairs": len(pairs),
        "n_supported": sum(labels),
        "precision": None if precision is None else round(precision, 4),
        "recall": None if recall is None else round(recall, 4),
        "f1": None if f1 is None else round(f1, 4),
        "accuracy": round(sum(y == p for y, p in zip(labels, predicted)) / len(pairs), 4) if pairs else None,
        "by_kind": {k: {"n": len(v), "accuracy": round(sum(v) / len(v), 4)} for k, v in sorted(kinds.items())},
        "errors": [
            {"id": pair.get("id"), "kind": pair.get("kind"), "label": y, "predicted": p}
            for pair, y, p in zip(pairs, labels, predicted) if y != p
        ],
    }
