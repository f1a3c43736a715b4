"""Pure rule-based condensing of a follow-up question with the conversation (offline).

A question is a follow-up only when it cannot be read alone: it opens like a continuation
("and", "what about"), it points back with a demonstrative ("this plan", "that"), it uses a
pronoun with nothing in the question it could refer to, or it names no subject at all
("Why?"). A question that names its own subject stands alone: "How many visitors came to the
museum on its reopening day?" ("its" = the museum).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.lexical import STOPWORDS, fold

History = Sequence[tuple[str, str]]  # (user question, assistant answer) pairs

_CONTINUATION = re.compile(
    r"^\s*(and|but|so|also|or|then|plus|what about|how about|what else|anything else|why not|how come|"
    r"what if|ok|okay)\b", re.I)
_PRONOUNS = {"he", "him", "his", "she", "her", "hers", "they", "them", "their", "theirs", "it", "its",
             "there", "then", "both"}
_DEMONSTRATIVES = {"this", "that", "these", "those", "such"}
_BACK_REFERENCES = re.compile(r"\b(the (latter|former|other one|same (one|thing|person|man|woman|place))|else|"
                              r"afterwards?|before that|after that|the rest)\b", re.I)
_TIME_NOUNS = {"year", "week", "month", "morning", "afternoon", "evening", "weekend", "season", "summer",
               "winter", "spring", "autumn", "fall", "time", "day", "night", "century", "decade"}
_DETERMINERS = {"the", "a", "an", "many", "much", "which", "whose", "what", "some", "any", "all", "each", "every",
                "several", "another", "other", "new", "first", "last", "of", "in", "at", "to", "from", "for", "by",
                "on", "with", "about"}
_FUNCTION = STOPWORDS | {"happen", "happened", "happens", "mean", "means", "meant", "did", "does", "do", "is", "was",
                          "were", "are", "be", "been", "why", "how", "when", "where", "who", "what", "which"}
_EXPLETIVE_IT = re.compile(
    r"\bit\s+(is|was|'s|will be|would be|has been|had been)?\s*(true|false|likely|unlikely|possible|impossible|"
    r"clear|known|expected|reported|said|certain|necessary|important|legal|safe|hard|easy)\b"
    r"|\b(is|was|will)\s+it\s+(true|likely|possible|clear|known|expected|safe|legal)\b"
    r"|\bhow\s+(long|much|many \w+)\s+(does|did|will|would)\s+it\s+take\b", re.I)
_EXISTENTIAL_THERE = re.compile(r"\b(is|are|was|were|will|would|has|have|had)\s+there\b|\bthere\s+(is|are|was|were|been)\b",
                                re.I)
_CLAUSE_STARTS = {"the", "a", "an", "he", "she", "they", "it", "we", "i", "you", "there", "his", "her", "their", "its"}
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-.]*")


def _tokens(question: str) -> list[tuple[str, str]]:
    """(original, folded) word tokens, possessive 's removed."""
    out = []
    for m in _TOKEN.finditer(question):
        raw = m.group().rstrip(".").replace("’", "'")
        if raw.lower().endswith("'s"):
            raw = raw[:-2]
        if raw:
            out.append((raw, fold(raw)))
    return out


def _is_name(raw: str, low: str, position: int) -> bool:
    """A proper name, acronym or number: capitalised (not as the question's first word) or with digits."""
    if any(ch.isdigit() for ch in raw):
        return True
    if low in _FUNCTION or low in _PRONOUNS or low in _DEMONSTRATIVES:
        return False
    return raw[:1].isupper() and (position > 0 or raw.isupper() and len(raw) > 1)


def _subjects(tokens: list[tuple[str, str]]) -> list[int]:
    """Positions of words a pronoun could refer to: names, and nouns after a determiner or preposition."""
    found = []
    for i, (raw, low) in enumerate(tokens):
        if _is_name(raw, low, i):
            found.append(i)
        elif i > 0 and tokens[i - 1][1] in _DETERMINERS and low not in _FUNCTION and low not in _PRONOUNS:
            found.append(i)
    return found


def needs_context(question: str) -> bool:
    """True when a question leans on earlier turns; a question that names its own subject stands alone."""
    if _CONTINUATION.match(question) or _BACK_REFERENCES.search(question):
        return True
    tokens = _tokens(question)
    subjects = _subjects(tokens)
    text = " ".join(low for _, low in tokens)
    for i, (_, low) in enumerate(tokens):
        before = [j for j in subjects if j < i]
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if low in _DEMONSTRATIVES:
            if nxt in _TIME_NOUNS:
                continue  # "this year", "that day"
            prev = tokens[i - 1][1] if i > 0 else ""
            if low == "that" and prev and prev not in _FUNCTION:
                continue  # a relative: "the plan that Russia proposed"
            if low == "that" and (nxt in _CLAUSE_STARTS or (i + 1 < len(tokens) and _is_name(*tokens[i + 1], i + 1))):
                continue  # a clause: "Who said that the talks failed?"
            if low == "such" and nxt == "as":
                continue
            return True  # "this plan", "Why did that happen?"
        if low in _PRONOUNS:
            if low == "it" and _EXPLETIVE_IT.search(text):
                continue
            if low == "there" and _EXISTENTIAL_THERE.search(text):
                continue
            if low == "then" and i > 0 and tokens[i - 1][1] in ("and", "since", "until", "by", "if"):
                continue
            if not before:
                return True  # nothing earlier in the question it could refer to
    # Too little to stand on and no name: "Why?", "Who won?", "What was the outcome?"
    named = any(_is_name(raw, low, i) for i, (raw, low) in enumerate(tokens))
    return not named and len([low for _, low in tokens if low not in _FUNCTION]) < 2


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
