"""The deterministic, offline judge that decides whether a passage supports a sentence.

Used by the evals (citation precision/recall, faithfulness) and by the LLM answer
verifier, so both apply one rule. Pure functions over text. Its precision and recall
on the labelled pairs in evals/judge_pairs.jsonl are reported by `python -m evals.judge_report`.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.lexical import NEGATIONS, STOPWORDS, capitalized_names, content_terms, numbers, stem, words

SUPPORT_THRESHOLD = 0.6  # share of the sentence's content terms the passage must contain
MAX_UNSUPPORTED_RUN = 3  # this many consecutive content terms missing from the passage = an invented clause
NEGATION_SCOPE = 4  # tokens after a negation word searched for the content word it negates


@dataclass(frozen=True)
class Verdict:
    """The judge's decision with its reasons."""

    supported: bool
    coverage: float
    missing_terms: tuple[str, ...]
    missing_numbers: tuple[str, ...]
    missing_names: tuple[str, ...]
    negation_mismatch: bool
    unsupported_run: tuple[str, ...] = ()


def _is_negation(word: str) -> bool:
    return word in NEGATIONS or word.endswith("n't")


def polarity(text: str) -> tuple[set[str], set[str]]:
    """(terms stated positively, terms under a negation) of a text.

    A negation word ("not", "no", "never", "n't", ...) negates the first content word
    within NEGATION_SCOPE tokens after it; every other content word counts as positive.
    """
    tokens = words(text)
    negated_at: set[int] = set()
    for i, w in enumerate(tokens):
        if _is_negation(w):
            for j in range(i + 1, min(len(tokens), i + 1 + NEGATION_SCOPE)):
                if tokens[j] not in STOPWORDS and not _is_negation(tokens[j]):
                    negated_at.add(j)
                    break
    positive: set[str] = set()
    negative: set[str] = set()
    for i, w in enumerate(tokens):
        if w in STOPWORDS or _is_negation(w):
            continue
        (negative if i in negated_at else positive).add(stem(w))
    return positive, negative


def negation_conflict(sentence: str, passage: str) -> bool:
    """True when the sentence negates what the passage only affirms, or affirms what the passage only negates."""
    s_pos, s_neg = polarity(sentence)
    p_pos, p_neg = polarity(passage)
    denies = any(t in p_pos and t not in p_neg for t in s_neg)
    affirms = any(t in p_neg and t not in p_pos for t in s_pos - s_neg)
    return denies or affirms


def _name_found(name: str, passage_words: set[str]) -> bool:
    """A proper name occurs in the passage, also as its adjective/demonym (Ukraine ~ Ukrainian)."""
    if name in passage_words:
        return True
    root = name[:-1] if len(name) >= 6 else None
    return root is not None and any(w.startswith(root) and len(w) - len(name) <= 3 for w in passage_words)


def _longest_missing_run(terms: list[str], passage_terms: set[str]) -> tuple[str, ...]:
    best: list[str] = []
    run: list[str] = []
    for t in terms:
        run = [*run, t] if t not in passage_terms else []
        if len(run) > len(best):
            best = run
    return tuple(best)


def judge(sentence: str, passage: str) -> Verdict:
    """Decide whether `passage` supports `sentence`.

    Supported when most of the sentence's content words occur in the passage, no run of
    MAX_UNSUPPORTED_RUN consecutive content words is missing (an added clause), every
    number and proper name of the sentence occurs in it, and the sentence does not flip
    the polarity of a word the passage negates or affirms.
    """
    terms = content_terms(sentence)
    s_terms = list(dict.fromkeys(terms))
    p_terms = set(content_terms(passage))
    p_words = set(words(passage))
    missing = tuple(t for t in s_terms if t not in p_terms)
    coverage = 1.0 - len(missing) / len(s_terms) if s_terms else 0.0
    run = _longest_missing_run(terms, p_terms)
    missing_numbers = tuple(sorted(numbers(sentence) - numbers(passage)))
    missing_names = tuple(sorted(n for n in capitalized_names(sentence) if not _name_found(n, p_words)))
    conflict = negation_conflict(sentence, passage)
    supported = (
        coverage >= SUPPORT_THRESHOLD and len(run) < MAX_UNSUPPORTED_RUN and not missing_numbers
        and not missing_names and not conflict
    )
    return Verdict(supported, round(coverage, 4), missing, missing_numbers, missing_names, conflict,
                   run if len(run) >= MAX_UNSUPPORTED_RUN else ())


def supports(sentence: str, passage: str) -> bool:
    """True when `passage` supports `sentence` (see `judge`)."""
    return judge(sentence, passage).supported
