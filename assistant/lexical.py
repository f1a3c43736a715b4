"""Pure text helpers shared by ranking, the extractive answerer and the support judge."""

from __future__ import annotations

import re
import unicodedata

STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
    during each few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here
    here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself
    let's me more most mustn't my myself no nor not of off on once only or other ought our ours ourselves
    out over own same shan't she she'd she'll she's should shouldn't so some such than that that's the their
    theirs them themselves then there there's these they they'd they'll they're they've this those through
    to too under until up very was wasn't we we'd we'll we're we've were weren't what what's when when's
    where where's which while who who's whom why why's with won't would wouldn't you you'd you'll you're
    you've your yours yourself yourselves will also according said says say tell told does did do article
    articles source sources text passage mention mentioned mentions much many long s t d ll ve re""".split()
)
NEGATIONS = frozenset({"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "n't"})
NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000, "dozen": 12,
}
MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_WORD = re.compile(r"[\w][\w'’\-]*", re.UNICODE)


class _Uncombined(dict[int, int | None]):
    """str.translate table that deletes combining marks, filled per code point on first sight."""

    def __missing__(self, cp: int) -> int | None:
        kept = None if unicodedata.combining(chr(cp)) else cp
        self[cp] = kept
        return kept


_UNCOMBINED = _Uncombined()


def fold(text: str) -> str:
    """Lowercase, unify apostrophes and strip accents."""
    text = text.replace("’", "'").replace("‘", "'").lower()
    if text.isascii():  # the usual case: NFKD leaves ASCII as it is and it has no combining marks
        return text
    text = unicodedata.normalize("NFKD", text)
    return text if text.isascii() else text.translate(_UNCOMBINED)


def words(text: str) -> list[str]:
    """All word tokens, folded, possessive 's removed; hyphenated words also give their parts."""
    out = []
    for w in _WORD.findall(fold(text)):
        w = w.strip("'-")
        if w.endswith("'s"):
            w = w[:-2]
        if w:
            out.append(w)
            if "-" in w:
                out.extend(part for part in w.split("-") if part)
    return out


def stem(word: str) -> str:
    """A light, deterministic suffix stripper (plural, -ing, -ed, -ly)."""
    w = word
    if len(w) <= 3 or w.isdigit():
        return w
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ied", "y"), ("ing", ""), ("edly", ""), ("ed", ""),
                         ("ly", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            if suffix == "s" and w.endswith(("ss", "us", "is")):
                continue
            if suffix == "es" and not w.endswith(("ches", "shes", "xes", "sses", "zes")):
                continue
            w = w[: -len(suffix)] + repl
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":
        w = w[:-1]
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return w


def content_terms(text: str) -> list[str]:
    """Stemmed words minus stopwords: the unit of lexical matching."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def numbers(text: str) -> set[str]:
    """Numbers written as digits or words, normalised to digit strings."""
    found = {n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}
    folded = words(text)
    for w in folded:
        for part in w.split("-"):
            if part in NUMBER_WORDS and part not in ("one",):
                found.add(str(NUMBER_WORDS[part]))
    return found


def has_date(text: str) -> bool:
    """True when text mentions a date, month, year, weekday or relative time."""
    low = fold(text)
    if re.search(r"\b(1[89]\d\d|20\d\d)\b", low):
        return True
    if any(re.search(rf"\b{m}\b", low) for m in MONTHS if m != "may"):
        return True
    return bool(
        re.search(
            r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tomorrow|"
            r"last (week|month|year)|days? earlier|weeks? ago|thanksgiving|christmas|deadline)\b",
            low,
        )
    )


def has_duration(text: str) -> bool:
    """True when text gives a length of time."""
    return bool(
        re.search(
            r"\b(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|many|few)[ -]"
            r"(seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b|months-long|years-long",
            fold(text),
        )
    )


def capitalized_names(text: str) -> set[str]:
    """Folded capitalised words that are not sentence-initial (rough proper nouns)."""
    names = set()
    for m in re.finditer(r"(?<![.!?]\s)(?<!^)\b([A-Z][\w'’\-]+)", text):
        w = fold(m.group(1)).removesuffix("'s")
        if w not in STOPWORDS:
            names.add(w)
    return names


_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\s+(all\s+|any\s+)?(of\s+)?(the\s+|your\s+|my\s+)?"
    r"(previous|prior|above|earlier|preceding|system|original|all)\s+(instructions?|prompts?|rules|directions|messages?)"
    r"|\b(answer|reply|respond|output)\s+(only|just|nothing but|with only)\b"
    r"(?!\s+(after|when|if|once|because|before|until|since|in|on|at|by|to)\b)"
    r"|^\W*(system|assistant|developer)\s*:"
    r"|\byou are (now )?(an? |the )?(ai|assistant|chatbot|language model|llm)\b"
    r"|\b(always|never) cite\b"
    # "ignore the instructions above": an instruction word after the verb; "rules" alone is news ("ignore the rules")
    r"|\b(ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(instructions?|prompts?)\b"
    r"|\b(ignore|disregard|forget)\s+(everything\s+|all\s+)?(the\s+)?(above|preceding)\b"
    r"|\b(override|ignore|disregard|forget)\b[^.!?\n]{0,30}\b(rules|directions)\s+(above|below)\b"
    r"|\bsystem prompt\b|\bnew instructions?\s*:|\byou are now in \w+ mode\b|\bas an ai\b,?\s+you\b"
    r"|\b(answer|reply|respond|say)\s+with\s+(only\s+|just\s+)?(the\s+)?(single\s+|one\s+)?word\b",
    re.IGNORECASE | re.MULTILINE,
)


def is_instruction(text: str) -> bool:
    """True when text addresses the assistant ("ignore previous instructions", "answer only ...").

    The one prompt-injection detector: the offline answerer, the conflict checks and the verifier's evidence use it.
    """
    return bool(_INSTRUCTION.search(text))
