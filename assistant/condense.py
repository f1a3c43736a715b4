"""Pure rule-based condensing of a follow-up question with the conversation (offline)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.lexical import content_terms, fold, words

History = Sequence[tuple[str, str]]  # (user question, assistant answer) pairs
_ANAPHORA = {
    "they", "their", "them", "theirs", "he", "him", "his", "she", "her", "hers", "it", "its", "this",
    "that", "these", "those", "there", "then", "the latter", "the former", "such", "both",
}


def needs_context(question: str) -> bool:
    """True when a question leans on earlier turns (pronouns, ellipsis, very few terms)."""
    low = fold(question)
    tokens = set(words(low))
    if tokens & _ANAPHORA or re.match(r"^\s*(and|but|what about|how about|also|so)\b", low):
        return True
    return len(content_terms(question)) < 2


def condense(question: str, history: History | None) -> tuple[str, str]:
    """Return (standalone question, context) for retrieval and answering.

    Offline rule: a follow-up keeps its own words and carries the previous question
    (and its answer's terms) as context, shown to the user as "follow-up to: ...".
    """
    question = question.strip()
    if not history or not needs_context(question):
        return question, ""
    last_q, last_a = history[-1]
    last_q = " ".join(last_q.split())
    answer_terms = re.sub(r"\s*\[\d+\]", "", last_a or "")
    context = f"{last_q} {answer_terms}" if answer_terms and "sources don't say" not in answer_terms else last_q
    return f"{question} (follow-up to: {last_q})", context
