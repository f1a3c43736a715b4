"""The deterministic, offline judge that decides whether a passage supports a sentence.

Used by the evals (citation precision/recall, faithfulness) and by the LLM answer verifier,
so both apply one rule. Pure functions over text, no model: words match as themselves, their
inflections or WordNet 3.0 synonyms (assistant/lexicon.py); each clause of the sentence is
aligned to the passage sentences that state it (assistant/bindings.py), where antonyms, flipped
negations, swapped names and numbers and added claims are looked for. A dense similarity function
may be passed to accept a low-coverage paraphrase. Its precision and recall on the labelled pairs
(evals/judge_pairs.jsonl, evals/judge_pairs_v2.jsonl) are reported by `python -m evals.judge_report`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Protocol

from assistant.bindings import (
    Window,
    align,
    covered,
    neighbours,
    number_swaps,
    role_swaps,
    single_sentences,
    slot_swaps,
    substitutions,
    windows,
)
from assistant.chunk import split_sentences
from assistant.claims import Text, Token, analyse, name_matches, promote_names
from assistant.lexical import NEGATIONS, STOPWORDS, stem, words
from assistant.lexicon import Lexicon
from assistant.lexicon import load as load_lexicon

Similarity = Callable[[str, str], float]


class Embedder(Protocol):
    """What embedding_similarity needs from an embedder."""

    def embed_query(self, text: str) -> list[float]:
        """A unit vector for text."""
        ...



SUPPORT_THRESHOLD = 0.6  # share of the sentence's content words the passage must contain
MAX_UNSUPPORTED_RUN = 3  # this many consecutive content words missing from the passage = an added claim
TAIL_RUN = 2  # ... or this many at the end of the sentence
SIMILARITY_FLOOR = 0.4  # coverage below which even a similar sentence is unsupported
SIMILARITY_THRESHOLD = 0.75  # dense similarity that accepts a low-coverage paraphrase (MiniLM, v2 tune split)
NEGATION_SCOPE = 4  # tokens after a negation word searched for the content word it negates


@dataclass(frozen=True)
class Verdict:
    """The judge's decision with its reasons (each tuple names what failed; empty when that check passed)."""

    supported: bool
    coverage: float
    missing_terms: tuple[str, ...]
    missing_numbers: tuple[str, ...]
    missing_names: tuple[str, ...]
    negation_mismatch: bool
    unsupported_run: tuple[str, ...] = ()
    antonyms: tuple[str, ...] = ()  # "approved~rejected": a sentence word whose opposite the passage states
    role_swaps: tuple[str, ...] = ()  # "reyes~back": a name bound to what another name does in the passage
    number_swaps: tuple[str, ...] = ()  # "3~point": a number attached to what another number counts
    misplaced: tuple[str, ...] = ()  # a name or number found only away from the passage sentence the claim matches
    similarity: float | None = None  # dense similarity, when a similarity function was given and consulted

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the sentence is not supported, one short phrase per failed check."""
        out = [f"{label}: {', '.join(items)}" for label, items in (
            ("number not in passage", self.missing_numbers), ("name not in passage", self.missing_names),
            ("opposite of the passage", self.antonyms), ("roles swapped", self.role_swaps),
            ("number attached to the wrong thing", self.number_swaps),
            ("name or number from another part of the passage", self.misplaced),
            ("added claim", self.unsupported_run)) if items]
        if self.negation_mismatch:
            out.append("negation flipped")
        if not out and not self.supported:
            out.append(f"too little of the sentence in the passage (coverage {self.coverage})")
        return tuple(out)


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



def negation_conflicts(s: Text, p: Text, aligned: dict[int, Window]) -> list[str]:
    """Words negated against the aligned passage ("Cars will return" for "Cars will not return").

    A word the sentence negates that the passage states in a clause free of negation, or a word the
    sentence states that the passage only negates.
    """
    out: list[str] = []
    for t in s.tokens:
        if not t.content or t.name or t.num is not None:
            continue
        same = [u for u in aligned[t.clause].tokens if t.lit & u.lit]
        if not same:
            continue
        if t.negated and all(not u.negated and u.clause not in p.negative_clauses for u in same):
            out.append(f"not {t.low}")
        elif not t.negated and all(u.negated for u in same):
            out.append(t.low)
    return out


_PREFIXES = ("un", "in", "im", "il", "ir", "non", "dis")
ANY = "x"  # the part of speech of a function word
# opposite function words WordNet does not pair (it has no entries, or no antonym, for them)
FUNCTION_OPPOSITES = {"before": ("after",), "after": ("before",), "above": ("below",), "below": ("above",),
                      "over": ("under",), "under": ("over",), "same": ("different",), "different": ("same",)}


def _antonyms(s: Text, aligned: dict[int, Window], lex: Lexicon) -> tuple[list[str], set[int]]:
    """Sentence words whose opposite the aligned passage states; and words negated where the passage has the opposite.

    A word counts as contradicted when the passage window has its antonym and not the word itself (or a
    synonym), or has the antonym in the word's own context ("the last to adopt" for "the first to adopt")
    even if the word also occurs elsewhere. "Did not approve" where the passage says "rejected" is support.
    """
    antonyms: list[str] = []
    flipped_ok: set[int] = set()
    said = {x for t in s.tokens for x in t.senses}
    for t in s.tokens:
        if t.name or t.num or not (t.content or t.polar):
            continue
        w = aligned[t.clause]
        opposite = _opposites(t, lex) - said  # "outer and inner": both sides stated
        hits = [k for k, u in enumerate(w.tokens) if opposite & u.senses] if opposite else []
        if not hits:
            continue
        around = neighbours(s.tokens, t.i)
        if any(t.lit & u.lit and (neighbours(w.tokens, k) & around or not around)
               for k, u in enumerate(w.tokens)):
            continue  # the word itself, in its own context
        in_context = any(neighbours(w.tokens, k) & around for k in hits)
        if t.keys & w.keys and not in_context:
            continue  # the word itself, an inflection or a synonym is there, and the opposite is about something else
        if any(w.tokens[k].negated != t.negated for k in hits):
            flipped_ok.add(t.i)  # "did not approve" for "rejected"
        else:
            antonyms.append(f"{t.low}~{w.tokens[hits[0]].low}")
    return antonyms, flipped_ok


def _opposites(t: Token, lex: Lexicon) -> set[str]:
    """Senses ("lemma/pos") opposite to a word's: WordNet antonyms of the same part of speech, un-/in-/non- forms."""
    out: set[str] = {f"{a}/{ANY}" for a in FUNCTION_OPPOSITES.get(t.low, ())}
    for sense in t.senses:
        lemma, pos = sense.split("/")
        out.update(a for a in lex.antonyms(lemma) if a.endswith(f"/{pos}"))
        for pre in _PREFIXES:
            if f"{pre}{lemma}" in lex.lemmas:
                out.add(f"{pre}{lemma}/{pos}")
            if lemma.startswith(pre) and lemma[len(pre):] in lex.lemmas and len(lemma) - len(pre) >= 4:
                out.add(f"{lemma[len(pre):]}/{pos}")
    return out


@lru_cache(maxsize=512)
def _analysed(passage: str) -> Text:
    return analyse(passage)


@lru_cache(maxsize=512)
def _prepared(passage: str, promoted: frozenset[str]) -> tuple[Text, set[str], list[Window]]:
    p = _analysed(passage)
    if promoted:
        p = replace(p, tokens=[replace(t) for t in p.tokens], names=set(p.names))
        promote_names(p, promoted)
    return p, {k for t in p.tokens for k in t.keys}, windows(p)


def _passage(passage: str, names: frozenset[str]) -> tuple[Text, set[str], list[Window]]:
    """The analysed passage (cached: the verifier judges many sentences against one passage), its keys and windows.

    A capitalised sentence-initial word of the passage counts as a name when the sentence or the passage uses it as one.
    """
    p = _analysed(passage)
    promoted = frozenset(t.low for t in p.tokens if t.initial_cap and (t.low in names or t.low in p.names))
    return _prepared(passage, promoted)


def _added_claim(flags: list[tuple[Token, bool]]) -> tuple[str, ...]:
    """The longest run of consecutive missing content words, when long enough to be an added claim.

    MAX_UNSUPPORTED_RUN words anywhere, or TAIL_RUN words after everything the passage supports
    ("... after a four-hour session attended by the governor").
    """
    best: list[str] = []
    run: list[str] = []
    for t, found in flags:
        run = [*run, t.low] if not found else []
        if len(run) > len(best):
            best = run
    if len(best) >= MAX_UNSUPPORTED_RUN or len(run) >= TAIL_RUN:
        return tuple(best if len(best) >= MAX_UNSUPPORTED_RUN else run)
    return ()


_CAUSAL = {"because"}  # "X, because Y": Y is a claim of its own ("since" is as often a time)
_CAUSAL_PAIRS = {("due", "to"), ("owing", "to"), ("so", "that"), ("order", "to")}


def _unsupported_reason(tokens: Sequence[Token], flags: list[tuple[Token, bool]]) -> tuple[str, ...]:
    """The missing words of a reason clause ("… because it was part of Putin's strategy") the passage mostly lacks.

    A cause or purpose given for a supported fact is a claim of its own: with at least two content words other than
    names, half or more of them missing, the sentence adds it.
    """
    lows = [t.low for t in tokens]
    start = next((t.i for k, t in enumerate(tokens) if t.low in _CAUSAL
                  or (k + 1 < len(tokens) and (t.low, lows[k + 1]) in _CAUSAL_PAIRS)), None)
    if start is None:
        return ()
    tail = [(t, found) for t, found in flags if t.i > start and not t.name]  # names anchor it; the claim is the rest
    missing = [t.low for t, found in tail if not found]
    return tuple(missing) if len(tail) >= 2 and len(missing) >= 2 and 2 * len(missing) >= len(tail) else ()


def judge(sentence: str, passage: str, similarity: Similarity | None = None) -> Verdict:
    """Decide whether `passage` supports `sentence`.

    Each clause of the sentence is aligned to the passage sentence (or two) that covers most of
    it. Supported when most of the sentence's content words occur in the passage (as themselves,
    an inflection or a WordNet synonym), no MAX_UNSUPPORTED_RUN consecutive content words are
    missing (an added claim), every number and name occurs, in the aligned passage sentence
    unless it names nothing else there, no word is the opposite of what the passage says there
    (a WordNet antonym or un-/in-/non- form, or a flipped negation), no name is bound to what
    another name does in the passage, and no number is attached to what another number counts.
    `similarity(sentence, passage)`, when given, can accept a paraphrase whose only fault is
    low word coverage.
    """
    lex = load_lexicon()
    s = analyse(sentence, lex)
    promote_names(s, _passage(passage, frozenset())[0].names)
    p, all_keys, options = _passage(passage, frozenset(s.names))
    content = [t for t in s.tokens if t.content]
    if not content or not p.tokens:
        return Verdict(False, 0.0, tuple(t.low for t in content), (), (), False)
    clause_toks: dict[int, list[Token]] = {}
    for t in s.tokens:
        if t.content or t.polar:
            clause_toks.setdefault(t.clause, []).append(t)
    whole = align(content, options)
    aligned = {}
    for c, toks in clause_toks.items():
        words_c = [t for t in toks if t.content and not t.name and t.num is None]
        aligned[c] = align(toks, options) if len(words_c) >= 2 else whole

    antonyms, flipped_ok = _antonyms(s, aligned, lex)

    flags = [(t, t.i in flipped_ok or covered(t, all_keys)) for t in content]
    seen: dict[str, bool] = {}
    for t, found in flags:
        seen[t.low] = seen.get(t.low, False) or found
    missing = tuple(w for w, found in seen.items() if not found)
    coverage = 1.0 - len(missing) / len(seen)
    run = _added_claim(flags) or _unsupported_reason(s.tokens, flags)
    missing_numbers = tuple(sorted({t.num for t in content if t.num and not covered(t, all_keys)}))
    missing_names = tuple(sorted({t.low for t in content if t.name and not covered(t, all_keys)}))

    s_nums = {t.num for t in content if t.num}
    misplaced: list[str] = []
    for t in content:
        if not (t.name or t.num) or not covered(t, all_keys) or covered(t, aligned[t.clause].keys):
            continue
        rivals = [u for u in aligned[t.clause].tokens if (
            (t.name and u.name and u.low not in s.names and not any(name_matches(u.low, {f"w:{n}"}) for n in s.names))
            or (t.num and u.num and u.num not in s_nums))]
        if rivals:
            misplaced.append(f"{t.low}~{rivals[0].low}")

    roles = role_swaps(s, clause_toks, aligned)
    num_swaps = number_swaps(s, p) + slot_swaps(s, p) + substitutions(s, whole)
    num_swaps += substitutions(s, align(content, single_sentences(options)))  # the one sentence it copies
    conflict = bool(negation_conflicts(s, p, aligned))
    hard = bool(missing_numbers or missing_names or misplaced or antonyms or roles or num_swaps or conflict)
    soft_ok = coverage >= SUPPORT_THRESHOLD and not run
    sim = None
    if not hard and not soft_ok and similarity is not None and coverage >= SIMILARITY_FLOOR:
        sim = round(float(similarity(sentence, passage)), 4)
        soft_ok = sim >= SIMILARITY_THRESHOLD
    return Verdict(
        not hard and soft_ok, round(coverage, 4), missing, missing_numbers, missing_names, conflict,
        run, tuple(antonyms), tuple(roles), tuple(num_swaps),
        tuple(misplaced), sim,
    )


def embedding_similarity(embedder: Embedder) -> Similarity:
    """A `similarity` for judge(): the best cosine between the sentence and the passage or one of its sentences.

    `embedder` is any object with `embed_query(text) -> list[float]` returning unit vectors (assistant.embed's).
    """
    def similarity(sentence: str, passage: str) -> float:
        v = embedder.embed_query(sentence)
        parts = [passage[a:b] for a, b in split_sentences(passage)] + [passage]
        return max(sum(x * y for x, y in zip(v, embedder.embed_query(part))) for part in parts)
    return similarity


def supports(sentence: str, passage: str, similarity: Similarity | None = None) -> bool:
    """True when `passage` supports `sentence` (see `judge`)."""
    return judge(sentence, passage, similarity).supported
