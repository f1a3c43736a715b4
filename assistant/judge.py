"""The deterministic, offline judge that decides whether a passage supports a sentence.

Used by the evals (citation precision/recall, faithfulness) and by the LLM answer
verifier, so both apply one rule. Pure functions over text.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.lexical import NEGATIONS, capitalized_names, content_terms, fold, numbers, words

SUPPORT_THRESHOLD = 0.6


@dataclass(frozen=True)
class Verdict:
    """The judge's decision with its reasons."""

    supported: bool
    coverage: float
    missing_terms: tuple[str, ...]
    missing_numbers: tuple[str, ...]
    missing_names: tuple[str, ...]
    negation_mismatch: bool


def judge(sentence: str, passage: str) -> Verdict:
    """Decide whether `passage` supports `sentence`.

    Supported when most of the sentence's content words occur in the passage, every
    number and proper name of the sentence occurs in it, and a negated sentence is
    not backed by a passage without any negation.
    """
    s_terms = list(dict.fromkeys(content_terms(sentence)))
    p_terms = set(content_terms(passage))
    p_words = set(words(passage))
    missing = tuple(t for t in s_terms if t not in p_terms)
    coverage = 1.0 - len(missing) / len(s_terms) if s_terms else 0.0
    missing_numbers = tuple(sorted(numbers(sentence) - numbers(passage)))
    missing_names = tuple(sorted(n for n in capitalized_names(sentence) if n not in p_words))
    s_neg = bool(set(words(sentence)) & NEGATIONS) or "n't" in fold(sentence)
    p_neg = bool(p_words & NEGATIONS) or "n't" in fold(passage)
    negation_mismatch = s_neg and not p_neg
    supported = (
        coverage >= SUPPORT_THRESHOLD and not missing_numbers and not missing_names and not negation_mismatch
    )
    return Verdict(supported, round(coverage, 4), missing, missing_numbers, missing_names, negation_mismatch)


def supports(sentence: str, passage: str) -> bool:
    """True when `passage` supports `sentence` (see `judge`)."""
    return judge(sentence, passage).supported
