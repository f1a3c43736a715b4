"""What a sentence claims, as plain data: tokens with match keys, clauses, names, numbers and their units.

Pure functions used by the support judge (assistant/judge.py). A token's match keys are its
stem, its WordNet lemmas and the ids of its lemmas' frequent senses, so "turned down" and
"rejected" share a key; names and numbers match only themselves.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.chunk import split_sentences
from assistant.lexical import NUMBER_WORDS, STOPWORDS, fold, stem
from assistant.lexicon import Lexicon
from assistant.lexicon import load as load_lexicon

NEGATIONS = frozenset({"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot"})
# function words whose opposite changes a claim (checked for antonyms, not counted for coverage)
POLAR = frozenset({"more", "most", "less", "least", "fewer", "few", "many", "before", "after", "above", "below",
                   "over", "under", "same", "first", "last"})
CLAUSE_WORDS = frozenset({"while", "whereas", "but", "although", "though", "however", "yet", "whilst"})
PRONOUNS = frozenset({"he", "she", "they", "it", "we", "i", "you", "who", "which"})
_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?|[^\W\d_][\w'’]*|%|[,;:()\u2014\u2013]|[.!?]", re.UNICODE)
_BOUNDARY = frozenset(",;:()\u2014\u2013.!?")


@dataclass(slots=True)
class Token:
    """One word, number or boundary mark of a text."""

    i: int
    low: str
    keys: frozenset[str] = frozenset()
    lemmas: tuple[str, ...] = ()
    senses: frozenset[str] = frozenset()  # "lemma/pos" for each part of speech the word may be
    lit: frozenset[str] = frozenset()  # keys without sense ids: the word itself or an inflection
    num: str | None = None
    name: bool = False
    strong: bool = False  # a name WordNet does not also know as a common word (Reyes, Texas; not China, President)
    initial_cap: bool = False  # capitalised first word of a sentence: a name only if the other text agrees
    content: bool = False
    polar: bool = False
    negated: bool = False
    boundary: bool = False
    clause: int = 0
    sentence: int = 0


@dataclass
class Text:
    """A tokenised text: tokens, clause and sentence numbers of each token."""

    tokens: list[Token]
    n_sentences: int
    n_clauses: int
    names: set[str] = field(default_factory=set)
    negative_clauses: set[int] = field(default_factory=set)  # clauses with a negation word

    def sentence_keys(self) -> list[set[str]]:
        """The union of match keys of each sentence."""
        out: list[set[str]] = [set() for _ in range(self.n_sentences)]
        for t in self.tokens:
            out[t.sentence] |= t.keys
        return out


@lru_cache(maxsize=1 << 16)
def _fold(word: str) -> str:
    return fold(word)


def _number(low: str) -> str | None:
    if low[0].isdigit():
        value = low.replace(",", "")
        return value[:-2] if value.endswith(".0") else value
    if low in NUMBER_WORDS and low != "one":
        return str(NUMBER_WORDS[low])
    return None


def _is_negation(low: str) -> bool:
    return low in NEGATIONS or low.endswith("n't")


@lru_cache(maxsize=1 << 16)
def word_keys(low: str, lex: Lexicon) -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
    """Match keys (stem, lemmas, sense ids), lemmas and "lemma/pos" senses of a lowercase word."""
    forms = lex.forms(low)
    keys = {f"w:{stem(low)}"}
    for lemma, _ in forms:
        keys.add(f"l:{lemma}")
        keys.update(f"s:{i}" for i in lex.synonym_ids(lemma))
    senses = frozenset(f"{lemma}/{p}" for lemma, pos in forms for p in pos) | {f"{low}/x"}  # x: as a function word
    return frozenset(keys), tuple(lemma for lemma, _ in forms), senses


def analyse(text: str, lex: Lexicon | None = None) -> Text:
    """Tokenise `text` into sentences and clauses, marking names, numbers, negation and content words."""
    lex = lex or load_lexicon()
    tokens: list[Token] = []
    clause = 0
    spans = split_sentences(text) or [(0, len(text))]
    for n_sent, (start, end) in enumerate(spans):
        first = True
        for m in _TOKEN.finditer(text, start, end):
            raw = m.group()
            if raw in _BOUNDARY:
                tokens.append(Token(len(tokens), raw, boundary=True, clause=clause, sentence=n_sent))
                clause += 1
                continue
            for part in [raw] if raw[0].isdigit() else re.split(r"[-\u2010\u2011]", raw):
                low = _fold(part).strip("'")
                if low.endswith("'s"):
                    low = low[:-2]
                if not low:
                    continue
                if low == "%":
                    low = "percent"
                if low in CLAUSE_WORDS and tokens and not tokens[-1].boundary:
                    clause += 1
                elif low in ("and", "or") and tokens and not tokens[-1].boundary:
                    nxt = text[m.end(): m.end() + 30].split()
                    if nxt and (nxt[0][:1].isupper() or fold(nxt[0]) in PRONOUNS):
                        clause += 1
                tok = Token(len(tokens), low, clause=clause, sentence=n_sent)
                tok.num = _number(low)
                if tok.num is not None:
                    tok.keys = frozenset({f"n:{tok.num}"})
                    tok.content = True
                elif _is_negation(low):
                    pass
                elif low in STOPWORDS or low == "one":
                    tok.polar = low in POLAR
                    if tok.polar:
                        tok.keys, tok.lemmas, tok.senses = word_keys(low, lex)
                else:
                    tok.content = True
                    cap = part[:1].isupper()
                    tok.name = cap and not (first and lex.forms(low))
                    tok.strong = tok.name and lex.is_proper(low)
                    tok.initial_cap = cap and not tok.name
                    if tok.name:
                        tok.keys = frozenset({f"w:{low}"})
                    else:
                        tok.keys, tok.lemmas, tok.senses = word_keys(low, lex)
                tokens.append(tok)
                first = False
        clause += 1
    _join_phrasal(tokens, lex)
    _mark_negation(tokens)
    for t in tokens:
        t.lit = frozenset(k for k in t.keys if k[0] != "s")
    return Text(tokens, len(spans), clause, {t.low for t in tokens if t.name},
                {t.clause for t in tokens if not t.boundary and _is_negation(t.low)})


def promote_names(text: Text, names: Set[str]) -> None:
    """Treat a capitalised sentence-initial word as a name when the other text uses it as one."""
    for t in text.tokens:
        if t.initial_cap and t.low in names:
            t.name, t.keys, t.lemmas, t.senses = True, frozenset({f"w:{t.low}"}), (), frozenset()
            t.lit = t.keys
            t.strong = True
            t.initial_cap = False
            text.names.add(t.low)


def _join_phrasal(tokens: list[Token], lex: Lexicon) -> None:
    """Give a verb the keys of the multiword lemma it starts ("turned down" -> turn_down)."""
    for a, b in zip(tokens, tokens[1:]):
        if b.content and not b.name and b.num is None and not a.content and not a.boundary:
            joined = f"{a.low}_{b.low}"  # "at present" -> at_present, given to "present"
            if joined in lex.lemmas:
                keys, lemmas, senses = word_keys(joined, lex)
                b.keys, b.lemmas, b.senses = b.keys | keys, b.lemmas + lemmas, b.senses | senses
        if a.content and not a.name and a.num is None and not b.boundary:
            for lemma in a.lemmas:
                joined = f"{lemma}_{b.low}"
                if joined in lex.lemmas:
                    keys, lemmas, senses = word_keys(joined, lex)
                    a.keys, a.lemmas, a.senses = a.keys | keys, a.lemmas + lemmas, a.senses | senses


def _mark_negation(tokens: list[Token], scope: int = 4) -> None:
    """A negation word negates the next content or polar word within `scope` tokens of its clause."""
    for t in tokens:
        if t.boundary or not _is_negation(t.low):
            continue
        for u in tokens[t.i + 1: t.i + 1 + scope]:
            if u.boundary or u.clause != t.clause:
                break
            if u.content or u.polar:
                u.negated = True
                break


def unit_of(text: Text, tok: Token) -> Token | None:
    """The word a number counts or measures: the next content word within two tokens ("12 points")."""
    for u in text.tokens[tok.i + 1: tok.i + 3]:
        if u.boundary:
            return None
        if u.content and u.num is None and not u.name:
            return u
    return None


_HAVING = frozenset({"had", "has", "have", "having", "contained", "contains", "contain", "included", "includes",
                      "include", "with", "of", "listed", "lists", "comprised", "comprises"})


def owner_of(text: Text, tok: Token, unit: Token) -> Token | None:
    """What a counted unit belongs to: "plan" in "a 27-point plan" and in "the plan had 27 points"; else None."""
    after = text.tokens[unit.i + 1] if unit.i + 1 < len(text.tokens) else None
    if after is not None and unit.i == tok.i + 1 and not unit.low.endswith("s") and after.content \
            and after.num is None and not after.name and not after.boundary:
        return after  # "27 point plan": the unit is a modifier of the noun after it
    verb = text.tokens[tok.i - 1] if tok.i >= 1 else None
    if verb is None or verb.low not in _HAVING:
        return None
    for u in reversed(text.tokens[max(0, verb.i - 2): verb.i]):
        if u.boundary:
            return None
        if u.content and u.num is None and not u.name:
            return u
    return None


def name_matches(name: str, keys: Set[str]) -> bool:
    """A name occurs among keys, also as its adjective or demonym (Ukraine ~ Ukrainian)."""
    if f"w:{name}" in keys:
        return True
    if len(name) < 6:
        return False
    root = f"w:{name[:-1]}"
    return any(len(k) - 2 - len(name) <= 3 and k.startswith(root) for k in keys if k[0] == "w")
