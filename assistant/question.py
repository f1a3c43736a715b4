"""What a question asks: its type, terms and names, its parts, and typed answer spans in a sentence.

Pure text logic, shared by the extractive answerer and its answerability features.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.lexical import MONTHS, NUMBER_WORDS, capitalized_names, content_terms, fold, numbers, words

QUESTION_WORDS = frozenset({"who", "whom", "whose", "what", "when", "where", "why", "how", "which"})
KINDS = ("person", "place", "date", "duration", "number", "reason", "yesno", "thing")
_PERSON_NOUNS = (
    r"person|people|man|men|woman|women|official|officials|leader|leaders|aide|aides|envoy|envoys|president|king|queen|"
    r"emperor|author|writer|player|players|coach|scientist|inventor|engineer|minister|son|daughter|wife|husband|father|"
    r"mother|brother|sister|actor|actress|singer|artist|founder|ceo|chairman|director|individual|individuals"
)
_PLACE_NOUNS = (
    r"town|city|cities|country|countries|nation|place|region|state|village|continent|river|location|island|province|"
    r"county|capital|area|district|port|mountain|lake|sea|ocean|border|site|venue|stadium|building"
)
_TIME_UNITS = r"seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centuries|century"
_NUM_WORD = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_AUX = {"is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "has", "have", "had", "should"}


@dataclass(frozen=True)
class Question:
    """What the answerer understood of a question."""

    text: str
    kind: str
    terms: tuple[str, ...]
    context_terms: tuple[str, ...]
    entities: tuple[str, ...]
    numbers: tuple[str, ...]
    plural: bool = False  # asks for several of its kind ("which two men", "who were ...")


def kind_of(question: str) -> str:
    """The type of answer a question asks for (one of KINDS)."""
    low = fold(question).strip()
    first = words(low)[:1]
    if re.search(rf"\b(which|what)\s+(\w+\s+)?({_PERSON_NOUNS})\b", low) or re.match(r"^\s*(who|whom|whose)\b", low) \
            or re.search(r"\b(by|to|for|with) whom\b|^[^?]{0,40},\s*who\b", low):
        return "person"
    if re.search(r"\bhow long\b|\bfor how many\b|\bhow many (" + _TIME_UNITS + r")\b|\bhow much time\b", low):
        return "duration"
    if re.search(r"\bhow (many|much)\b|\bwhat (number|percentage|percent|share|amount|price|cost|proportion|fraction)\b"
                 r"|\bhow (big|large|high|tall|far|old|heavy)\b", low):
        return "number"
    if re.match(r"^\s*when\b", low) or re.search(
        r"\b(what|which|in what|in which)\s+(date|day|year|month|time|century|decade|era|period)\b|\bwhen\b", low
    ):
        return "date"
    if re.match(r"^\s*where\b", low) or re.search(rf"\b(what|which)\s+(\w+\s+)?({_PLACE_NOUNS})\b|\bwhere\b", low):
        return "place"
    if re.match(r"^\s*why\b", low) or re.search(r"\bwhat (is|was|are|were) the reasons?\b|\bfor what reason\b", low):
        return "reason"
    if first and first[0] in _AUX:
        return "yesno"
    return "thing"


def _type_nouns(low: str) -> set[str]:
    """Stems of the words that name the asked type ("which two men", "what town", "what year"): not evidence terms."""
    m = re.search(rf"\b(?:which|what|how many)\s+((?:\w+\s+)?(?:{_PERSON_NOUNS}|{_PLACE_NOUNS}|date|day|year|month|time|"
                  r"century|decade))\b", low)
    return set(content_terms(m.group(1))) if m else set()


def analyse(question: str, context: str = "") -> Question:
    """Question type, weighted terms, named entities and numbers."""
    kind = kind_of(question)
    low = fold(question)
    names = {n for n in capitalized_names(question) if n not in QUESTION_WORDS}
    drop = QUESTION_WORDS | ({"last", "take", "took"} if kind == "duration" else set()) | _type_nouns(low)
    terms = tuple(t for t in content_terms(question) if t not in drop)
    ctx = tuple(t for t in content_terms(context) if t not in terms and t not in QUESTION_WORDS)
    plural = bool(re.search(r"\b(two|three|four|both|which men|which women|people|who were|who are)\b", low)) or bool(
        re.search(rf"\b(which|what)\s+(\w+\s+)?({_PERSON_NOUNS})\b", low) and re.search(r"\b(men|women|people|officials|"
                                                                                      r"leaders|aides|envoys|players)\b", low)
    )
    digits = tuple(sorted(numbers(re.sub(r"[A-Za-z]+", " ", question))))  # "two men" names no number to match
    return Question(question, kind, terms, ctx, tuple(sorted(names)), digits, plural)


_PART_SPLIT = re.compile(
    r",?\s+(?:and|or|but)\s+(?=(?:who|whom|whose|what|when|where|why|which|how|is|are|was|were|did|does|do)\b)", re.IGNORECASE
)
_WH_PAIR = re.compile(r"^\s*(who|what|when|where|why|which|how \w+)\s+and\s+(who|what|when|where|why|which|how \w+)\s+(.*)$",
                      re.IGNORECASE)


def parts(question: str) -> list[str]:
    """The sub-questions of a multi-part question ("X and how Y?", "who and when ..."), or [question]."""
    q = " ".join(question.split())
    m = _WH_PAIR.match(q)
    if m:
        rest = m.group(3)
        return [f"{w[0].upper()}{w[1:]} {rest}" for w in (m.group(1), m.group(2))]
    pieces = [p.strip(" ,;") for p in _PART_SPLIT.split(q) if p.strip(" ,;")]
    if len(pieces) < 2 or any(len(words(p)) < 2 for p in pieces):
        return [q]
    out = []
    for p in pieces:
        p = p.rstrip("?").strip()
        out.append(p[0].upper() + p[1:] + "?")
    return out


# -- typed spans inside a sentence ----------------------------------------------------------------

_DURATION = re.compile(
    rf"\b(?:(?:\d[\d,.]*|{_NUM_WORD}|a|an|several|a few|many|about \w+)(?:[ -](?:and a half|{_NUM_WORD}))?"
    rf"[ -](?:{_TIME_UNITS}))\b"
    r"|\b\w+-long\b",
    re.IGNORECASE,
)
_MONTH = "|".join(m.capitalize() for m in MONTHS if m != "may") + "|May"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}} (?:{_MONTH})\.?,? \d{{4}}|(?:{_MONTH})\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}|(?:{_MONTH})\.? \d{{1,2}}"
    rf"(?:st|nd|rd|th)?|\d{{1,2}} (?:{_MONTH})|(?:{_MONTH}) \d{{4}}|(?:early |late |mid-)?\d{{3,4}}s?"
    r"|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|(?:\w+ )?century|Thanksgiving|Christmas)\b"
)
_NUMBER = re.compile(
    rf"(?:[$€£]\s?)?\b(?:\d[\d,]*(?:\.\d+)?|(?:{_NUM_WORD})(?:[ -](?:{_NUM_WORD}))*)"
    r"(?:[ -](?:percent|per cent|million|billion|thousand|hundred|trillion))?"
    r"(?:[ -](?:[a-z]+(?:-[a-z]+)?))?\b%?",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][\w'’\-]+(?:\s+(?:of|de|von|van|the|and)?\s*[A-Z][\w'’\-]+)*")


def _clean_number(m: re.Match[str], text: str) -> tuple[int, int]:
    """A number match, keeping a unit word only when it is a noun-ish word (not a verb/article)."""
    span = m.group()
    tail = re.search(r"[ -]([a-z]+(?:-[a-z]+)?)$", span)
    if tail and (tail.group(1) in {"and", "the", "of", "to", "in", "on", "a", "an", "was", "were", "is", "are", "by", "for",
                                   "from", "with", "at", "or"} or tail.group(1) in NUMBER_WORDS):
        return m.start(), m.end() - len(tail.group())
    return m.start(), m.end()


def typed_spans(kind: str, sentence: str, question: Question) -> list[tuple[int, int]]:
    """Spans of `sentence` holding something of the asked type that the question does not already name."""
    asked = set(words(question.text)) | set(question.entities)
    spans: list[tuple[int, int]] = []
    if kind == "duration":
        spans = [m.span() for m in _DURATION.finditer(sentence)]
    elif kind == "date":
        spans = [m.span() for m in _DATE.finditer(sentence)]
    elif kind == "number":
        for m in _NUMBER.finditer(sentence):
            s, e = _clean_number(m, sentence)
            token = sentence[s:e].strip()
            if token.lower() in {"one", "a", "an"} or not token:
                continue
            if re.search(rf"[ -](?:{_TIME_UNITS})$", token, re.IGNORECASE) and not re.search(_TIME_UNITS, fold(question.text)):
                continue  # a length of time answers "how long", not "how many/old/much"
            if numbers(token) and not (numbers(token) <= set(question.numbers)):
                spans.append((s, e))
    elif kind in ("person", "place"):
        for m in _NAME.finditer(sentence):
            s, e = m.span()
            if s == 0 or re.search(r"[.!?]\s*$", sentence[:s]):  # sentence-initial capital: not evidence of a name
                first_end = sentence.find(" ", s)
                if first_end == -1 or first_end >= e:
                    continue
            spans.append((s, e))
    if kind == "number":  # "how many points": prefer the numbers that count the asked thing
        asked_terms = set(question.terms)
        counted = [(s, e) for s, e in spans if set(content_terms(sentence[s:e])) & asked_terms]
        spans = counted or spans
    out = []
    for s, e in spans:
        toks = [w for w in words(sentence[s:e]) if w not in {"of", "the", "and", "de", "von", "van"}]
        if toks and not all(t in asked for t in toks) and fold(sentence[s:e]) not in {"may"}:
            out.append((s, e))
    return out
