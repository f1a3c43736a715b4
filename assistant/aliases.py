"""Who a short name or a pronoun stands for, read from the passages of one answer: pure functions over text.

An article names a person once in full ("Russian President Vladimir Putin") and afterwards by surname or
pronoun ("Putin's team", "Yet he remains insulated"). A claim may use another of those forms ("the Russian
president", "Donald Trump"); the offline judge compares words, so before judging, `for_judging` writes the
claim's name in the form the cited passage uses and a passage's "he"/"she" as the person last named before it.
Only forms of one full name found in the answer's passages are exchanged: a name the passages never join to
the passage's person stays as it is, so a swapped or invented name is still caught.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.types import Passage

Phrase = tuple[str, ...]
NAMES_KEY = "names"  # document metadata: the article's full names, so any passage of it can be read with them

_WORD = re.compile(r"[A-Za-z][A-Za-z\-]*(?:['’][A-Za-z]+)?")
_CAP_RUN = re.compile(r"(?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?)(?: (?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?))+")
_LEADING = {"the", "a", "an", "but", "and", "or", "yet", "so", "for", "in", "on", "at", "of", "to", "by", "as",
            "if", "when", "while", "after", "before", "since", "with", "from", "this", "that", "these", "those"}
_PRONOUN = re.compile(r"\b([Hh]e|[Ss]he)\b(?!['’])")
_POSSESSIVE = re.compile(r"['’]s$")


def _bare(word: str) -> str:
    return _POSSESSIVE.sub("", word).lower()


def name_phrases(texts: Iterable[str]) -> frozenset[Phrase]:
    """Full names of two or more capitalised words in the texts ("Russian President Vladimir Putin"), lowercased.

    A leading function word ("But Putin") is dropped; what is left must still be two words.
    """
    out: set[Phrase] = set()
    for text in texts:
        for m in _CAP_RUN.finditer(text):
            words = [w.lower() for w in m.group().split()]
            while words and words[0] in _LEADING:
                words = words[1:]
            if len(words) >= 2:
                out.add(tuple(words))
    return frozenset(out)


def to_text(phrases: frozenset[Phrase]) -> str:
    """Full names as one metadata string ("president donald trump; steve witkoff"), stored with each document."""
    return "; ".join(sorted(" ".join(p) for p in phrases))


def from_text(text: str) -> frozenset[Phrase]:
    """The full names of a `to_text` string."""
    return frozenset(tuple(part.split()) for part in text.split(";") if len(part.split()) >= 2)


def phrases_of(passages: Iterable[Passage]) -> frozenset[Phrase]:
    """The full names an answer's passages give: in their text, and stored with their documents at ingest."""
    passages = list(passages)
    return name_phrases(p.text for p in passages).union(*(from_text(str(p.metadata.get(NAMES_KEY, ""))) for p in passages))


def _subsequence(part: Phrase, whole: Phrase) -> bool:
    it = iter(whole)
    return all(w in it for w in part)


def _surnames(phrases: frozenset[Phrase]) -> set[str]:
    return {p[-1] for p in phrases}


def shorten_names(claim: str, passage: str, phrases: frozenset[Phrase]) -> str:
    """The claim with each name written as the passage writes it, when the passages join the two forms.

    "Donald Trump" becomes "Trump" and "the Russian president" becomes "the Putin" when the passage says
    "Trump" and "Putin" but not the longer form, and a passage of the answer says "President Donald Trump",
    "Russian President Vladimir Putin". A run of claim words is exchanged only when it holds a capitalised word
    and is part of full names whose surnames in the passage are one (the run lacks a passage word, so it is not
    that surname alone).
    """
    if not phrases:
        return claim
    said = {_bare(w) for w in _WORD.findall(passage)}
    named = {_bare(w) for w in _WORD.findall(passage) if w[0].isupper()}  # a surname is written capitalised
    tokens = list(_WORD.finditer(claim))
    pieces: list[str] = []
    last = 0
    i = 0
    while i < len(tokens):
        best: tuple[int, str] | None = None
        for j in range(len(tokens), i, -1):
            run = tokens[i:j]
            if not any(t.group()[0].isupper() for t in run):
                continue
            if any(claim[a.end():b.start()] != " " for a, b in zip(run, run[1:])):
                continue  # one run of words, no punctuation inside
            if any(_POSSESSIVE.search(t.group()) for t in run[:-1]):
                continue
            if j < len(tokens) and tokens[j].group()[0].isupper() and claim[run[-1].end():tokens[j].start()] == " ":
                continue  # part of a longer name ("Vladimir" of "Vladimir Trump")
            if i > 0 and tokens[i - 1].group()[0].isupper() and claim[tokens[i - 1].end():run[0].start()] == " " \
                    and tokens[i - 1].group().lower() not in _LEADING:
                break
            part = tuple(_bare(t.group()) for t in run)
            if all(w in said for w in part):
                break
            heads = {p[-1] for p in phrases if _subsequence(part, p)} & named
            if len(heads) == 1:
                head = heads.pop()
                best = (j, head)
                break
        if best is None:
            i += 1
            continue
        j, head = best
        a, b = tokens[i].start(), tokens[j - 1].end()
        name = next(w for w in _WORD.findall(passage) if _bare(w) == head and w[0].isupper())
        name = _POSSESSIVE.sub("", name)
        pieces += [claim[last:a], name + ("’s" if _POSSESSIVE.search(tokens[j - 1].group()) else "")]
        last = b
        i = j
    pieces.append(claim[last:])
    return "".join(pieces)


def resolve_pronouns(passage: str, phrases: frozenset[Phrase]) -> str:
    """The passage with each "he"/"she" replaced by the surname last written before it, when there is one.

    Surnames are the last words of the answer's full names ("Putin" of "Russian President Vladimir Putin");
    a pronoun before any of them is left as it is.
    """
    surnames = _surnames(phrases)
    if not surnames or not _PRONOUN.search(passage):
        return passage
    mentions = [(m.start(), _POSSESSIVE.sub("", m.group())) for m in _WORD.finditer(passage)
                if m.group()[0].isupper() and _bare(m.group()) in surnames]
    if not mentions:
        return passage

    def swap(m: re.Match[str]) -> str:
        before = [name for at, name in mentions if at < m.start()]
        return before[-1] if before else m.group()

    return _PRONOUN.sub(swap, passage)


def for_judging(claim: str, passage: str, phrases: frozenset[Phrase]) -> tuple[str, str]:
    """(claim, passage) as the offline judge should compare them: pronouns resolved, names in the passage's form."""
    if not phrases:
        return claim, passage
    passage = resolve_pronouns(passage, phrases)
    return shorten_names(claim, passage, phrases), passage
