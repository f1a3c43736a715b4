"""The deterministic, offline judge that decides whether a passage supports a sentence.

Used by the evals (citation precision/recall, faithfulness) and by the LLM answer
verifier, so both apply one rule. Pure functions over text. Its precision and recall
on the labelled pairs in evals/judge_pairs.jsonl are reported by `python -m evals.judge_report`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from functools import lru_cache

from assistant.claims import Text, Token, analyse, name_matches, promote_names, unit_of
from assistant.lexical import NEGATIONS, STOPWORDS, stem, words
from assistant.lexicon import Lexicon
from assistant.lexicon import load as load_lexicon

Similarity = Callable[[str, str], float]
SUPPORT_THRESHOLD = 0.6  # share of the sentence's content words the passage must contain
MAX_UNSUPPORTED_RUN = 3  # this many consecutive content words missing from the passage = an added claim
TAIL_RUN = 2  # ... or this many at the end of the sentence
WINDOW = 2  # passage sentences a clause may be aligned to at once
ENTITY_WEIGHT = 0.5  # names and numbers count less than other words when aligning a clause
NEIGHBOURS = 2  # content words on each side that place a name or number in its context
BIND_SHARE = 0.5  # share of a clause's words a passage clause must state to bind its verb to another name
BIND_DISTANCE = 3  # tokens between a name and a word it is bound to (its verb or object)
SUBSTITUTION = 6  # longest replaced stretch (tokens) checked for a swapped name or number
SLOT_CONTEXT = 2  # tokens on each side of a name or number that make its slot
SLOT_RIVAL = 2  # context tokens another name or number must share to take a slot ...
SLOT_MARGIN = 2  # ... and this many more than the name or number the sentence put there
SIMILARITY_FLOOR = 0.4  # coverage below which even a similar sentence is unsupported
SIMILARITY_THRESHOLD = 0.8  # dense similarity that accepts a low-coverage paraphrase
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



def negation_conflicts(s: Text, p: Text, aligned: dict[int, _Window]) -> list[str]:
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


def _covered(t: Token, keys: set[str]) -> bool:
    return name_matches(t.low, keys) if t.name else bool(t.keys & keys)


def _antonyms(s: Text, aligned: dict[int, _Window], lex: Lexicon) -> tuple[list[str], set[int]]:
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
        around = _neighbours(s.tokens, t.i)
        if any(t.lit & u.lit and (_neighbours(w.tokens, k) & around or not around)
               for k, u in enumerate(w.tokens)):
            continue  # the word itself, in its own context
        in_context = any(_neighbours(w.tokens, k) & around for k in hits)
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


@dataclass
class _Window:
    """Passage sentences [a, b] a sentence clause is aligned to."""

    tokens: list[Token]
    keys: set[str]


def _windows(p: Text) -> list[_Window]:
    by_sentence: list[list[Token]] = [[] for _ in range(p.n_sentences)]
    for t in p.tokens:
        by_sentence[t.sentence].append(t)
    out = []
    for a in range(p.n_sentences):
        for b in range(a, min(a + WINDOW, p.n_sentences)):
            toks = [t for s in by_sentence[a: b + 1] for t in s]
            out.append(_Window(toks, {k for t in toks for k in t.keys}))
    return out


@lru_cache(maxsize=512)
def _analysed(passage: str) -> Text:
    return analyse(passage)


@lru_cache(maxsize=512)
def _prepared(passage: str, promoted: frozenset[str]) -> tuple[Text, set[str], list[_Window]]:
    p = _analysed(passage)
    if promoted:
        p = replace(p, tokens=[replace(t) for t in p.tokens], names=set(p.names))
        promote_names(p, promoted)
    return p, {k for t in p.tokens for k in t.keys}, _windows(p)


def _passage(passage: str, names: frozenset[str]) -> tuple[Text, set[str], list[_Window]]:
    """The analysed passage (cached: the verifier judges many sentences against one passage), its keys and windows.

    A capitalised sentence-initial word of the passage counts as a name when the sentence or the passage uses it as one.
    """
    p = _analysed(passage)
    promoted = frozenset(t.low for t in p.tokens if t.initial_cap and (t.low in names or t.low in p.names))
    return _prepared(passage, promoted)


def _align(toks: list[Token], windows: list[_Window]) -> _Window:
    """The passage window covering most of the clause's words (names and numbers count less), shortest first."""
    def score(w: _Window) -> tuple[float, int]:
        got = sum((ENTITY_WEIGHT if t.name or t.num else 1.0) for t in toks if _covered(t, w.keys))
        return got, -len(w.tokens)
    return max(windows, key=score)


def _clause_sets(w: _Window) -> dict[int, tuple[set[str], set[str]]]:
    """Passage clause -> (match keys, names) within a window."""
    out: dict[int, tuple[set[str], set[str]]] = {}
    for t in w.tokens:
        keys, names = out.setdefault(t.clause, (set(), set()))
        keys |= t.keys
        if t.strong:
            names.add(t.low)
    return out


def _passive(tokens: list[Token], a: int, b: int) -> bool:
    """A "by" between positions a and b (the agent of a passive verb)."""
    return any(t.low == "by" for t in tokens[min(a, b): max(a, b)])


def _role_swaps(s: Text, clause_toks: dict[int, list[Token]], aligned: dict[int, _Window]) -> list[str]:
    """Names bound, in the passage, to what another name does (or the order around a verb reversed)."""
    out: list[str] = []
    for c, toks in clause_toks.items():
        w = aligned[c]
        clauses = _clause_sets(w)
        names_c = {t.low for t in toks if t.name}
        words_c = [t for t in toks if t.content and not t.name and t.num is None]
        for e in (t for t in toks if t.name):
            if not name_matches(e.low, w.keys):
                continue
            for v in words_c:
                if abs(v.i - e.i) > BIND_DISTANCE or not (v.keys & w.keys):
                    continue
                # passage clauses stating v with much of this clause, about another name and none of this clause's
                with_v = [(k, n) for k, n in clauses.values() if v.keys & k
                          and sum(bool(t.keys & k) for t in words_c) >= BIND_SHARE * len(words_c)]
                if with_v and not any(name_matches(e.low, k) for k, _ in with_v) and any(
                    n - names_c and not any(name_matches(x, k) for x in names_c) for k, n in with_v
                ):
                    out.append(f"{e.low}~{v.low}")
                    break
        # two names of one clause on either side of a verb: their order in the passage clause
        names = [t for t in toks if t.name]
        if len(names) < 2:
            continue
        by_clause: dict[int, list[Token]] = {}
        for t in w.tokens:
            by_clause.setdefault(t.clause, []).append(t)
        for e1 in names:
            for e2 in names:
                if e1.i >= e2.i or e1.low == e2.low:
                    continue
                for v in toks:
                    if not (e1.i < v.i < e2.i and v.content and not v.name and not v.num):
                        continue
                    for pt in by_clause.values():
                        p1 = [t.i for t in pt if t.name and t.low == e1.low]
                        p2 = [t.i for t in pt if t.name and t.low == e2.low]
                        pv = [t.i for t in pt if v.lit & t.keys]
                        if not (len(p1) == len(p2) == len(pv) == 1):
                            continue  # only an unambiguous clause tells the order
                        reversed_ = p2[0] < pv[0] < p1[0]
                        same = p1[0] < pv[0] < p2[0]
                        s_passive = _passive(s.tokens, v.i, e2.i)
                        p_passive = any(t.low == "by" for t in pt if pv[0] < t.i < max(p1[0], p2[0]))
                        if (reversed_ and s_passive == p_passive) or (same and s_passive != p_passive):
                            out.append(f"{e1.low}~{v.low}~{e2.low}")
    return list(dict.fromkeys(out))


def _neighbours(tokens: list[Token], at: int, reach: int = NEIGHBOURS) -> set[str]:
    """Literal keys of the nearest `reach` ordinary content words on each side of tokens[at], within its clause."""
    out: set[str] = set()
    for step in (-1, 1):
        got, j = 0, at + step
        while 0 <= j < len(tokens) and got < reach and tokens[j].clause == tokens[at].clause:
            u = tokens[j]
            if u.content and not u.name and u.num is None:
                out |= u.lit
                got += 1
            j += step
        # stop at the clause edge
    return out


_PARTICLES = frozenset({"von", "van", "der", "de", "da", "di", "du", "la", "le", "del", "bin", "al", "of", "&"})


@dataclass(frozen=True)
class _Slot:
    """A name (consecutive capitalised words, particles allowed inside) or a number, with its immediate context."""

    words: frozenset[str]
    num: str | None
    context: frozenset[tuple[int, str]]


def _slots(tokens: list[Token], lo: int = 0, hi: int | None = None) -> list[_Slot]:
    """The names and numbers of tokens[lo:hi], each with the SLOT_CONTEXT tokens on either side."""
    hi = len(tokens) if hi is None else hi

    def mark(t: Token) -> str:
        return "#" if t.num is not None else "N" if t.name else t.low

    out: list[_Slot] = []
    k = lo
    while k < hi:
        t = tokens[k]
        if t.num is None and not t.name:
            k += 1
            continue
        end = k
        if t.name:
            while end + 1 < hi and (tokens[end + 1].name or (
                    tokens[end + 1].low in _PARTICLES and end + 2 < hi and tokens[end + 2].name)):
                end += 1
        ctx = {(-d, mark(tokens[k - d])) for d in range(1, SLOT_CONTEXT + 1) if k - d >= 0}
        ctx |= {(d, mark(tokens[end + d])) for d in range(1, SLOT_CONTEXT + 1) if end + d < len(tokens)}
        out.append(_Slot(frozenset(u.low for u in tokens[k: end + 1] if u.name), t.num, frozenset(ctx)))
        k = end + 1
    return out


def _same_entity(a: _Slot, b: _Slot) -> bool:
    if a.num is not None or b.num is not None:
        return a.num == b.num
    return any(name_matches(x, {f"w:{y}" for y in b.words}) for x in a.words)


def _slot_swaps(s: Text, p: Text) -> list[str]:
    """Names or numbers in the sentence whose exact context, in the passage, surrounds another name or number.

    "from 23 November 1989 until 6 December 1963" when the passage says 1963 ... 1989: the context of
    1989 in the sentence ("November _ until") is the context of another number in the passage.
    """
    out: list[str] = []
    p_slots = _slots(p.tokens)
    for slot in _slots(s.tokens):
        own = max((len(slot.context & q.context) for q in p_slots if _same_entity(slot, q)), default=0)
        rival = max(((len(slot.context & q.context), q) for q in p_slots
                     if not _same_entity(slot, q) and (q.num is None) == (slot.num is None)),
                    key=lambda x: x[0], default=(0, None))
        if rival[1] is not None and rival[0] >= max(SLOT_RIVAL, own + SLOT_MARGIN):
            name = slot.num if slot.num is not None else " ".join(sorted(slot.words))
            other = rival[1].num if rival[1].num is not None else " ".join(sorted(rival[1].words))
            out.append(f"{name}~{other}")
    return out


def _substitutions(s: Text, w: _Window) -> list[str]:
    """Names or numbers put in place of another in an otherwise copied stretch of the passage.

    The sentence's tokens are aligned to the passage window's (difflib); a short replaced stretch with
    copied words on both sides, whose sentence side has a name or number and whose passage side has a
    different one of the same kind, is a swap ("allowed (296) for" where the passage has "allowed (4,530) for").
    """
    a = [f"#{t.num}" if t.num is not None else t.low for t in s.tokens]
    b = [f"#{t.num}" if t.num is not None else t.low for t in w.tokens]
    ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    out: list[str] = []
    for k, (op, i1, i2, j1, j2) in enumerate(ops):
        if op != "replace" or i2 - i1 > SUBSTITUTION or j2 - j1 > SUBSTITUTION:
            continue
        before = k == 0 or ops[k - 1][0] == "equal"
        after = k == len(ops) - 1 or ops[k + 1][0] == "equal"
        if not (before and after) or len(ops) == 1:
            continue
        mine = [t for t in s.tokens[i1:i2] if t.name or t.num is not None]
        theirs = [t for t in w.tokens[j1:j2] if t.name or t.num is not None]
        for t in mine:
            rivals = [u for u in theirs if (u.num is None) == (t.num is None) and not (
                u.num == t.num if t.num is not None else name_matches(t.low, {f"w:{u.low}"}))]
            if rivals and not any((u.num == t.num) if t.num is not None else name_matches(t.low, {f"w:{u.low}"})
                                  for u in theirs):
                out.append(f"{t.low}~{rivals[0].low}")
                break
    return out


def _number_swaps(s: Text, p: Text) -> list[str]:
    """Numbers whose unit, in the passage, is counted by another number ("3 points" when it had 12)."""
    out: list[str] = []
    p_units: list[tuple[str, Token]] = []
    for t in p.tokens:
        if t.num is not None:
            u = unit_of(p, t)
            if u is not None:
                p_units.append((t.num, u))
    for t in s.tokens:
        if t.num is None:
            continue
        u = unit_of(s, t)
        if u is None:
            continue
        mine = [pu for n, pu in p_units if n == t.num]
        others = [n for n, pu in p_units if n != t.num and (pu.keys & u.keys)]
        if mine and others and not any(pu.keys & u.keys for pu in mine):
            out.append(f"{t.low}~{u.low}")
    return out


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
    p, all_keys, windows = _passage(passage, frozenset(s.names))
    content = [t for t in s.tokens if t.content]
    if not content or not p.tokens:
        return Verdict(False, 0.0, tuple(t.low for t in content), (), (), False)
    clause_toks: dict[int, list[Token]] = {}
    for t in s.tokens:
        if t.content or t.polar:
            clause_toks.setdefault(t.clause, []).append(t)
    whole = _align(content, windows)
    aligned = {}
    for c, toks in clause_toks.items():
        words_c = [t for t in toks if t.content and not t.name and t.num is None]
        aligned[c] = _align(toks, windows) if len(words_c) >= 2 else whole

    antonyms, flipped_ok = _antonyms(s, aligned, lex)

    flags = [(t, t.i in flipped_ok or _covered(t, all_keys)) for t in content]
    seen: dict[str, bool] = {}
    for t, found in flags:
        seen[t.low] = seen.get(t.low, False) or found
    missing = tuple(w for w, found in seen.items() if not found)
    coverage = 1.0 - len(missing) / len(seen)
    run = _added_claim(flags)
    missing_numbers = tuple(sorted({t.num for t in content if t.num and not _covered(t, all_keys)}))
    missing_names = tuple(sorted({t.low for t in content if t.name and not _covered(t, all_keys)}))

    s_nums = {t.num for t in content if t.num}
    misplaced: list[str] = []
    for t in content:
        if not (t.name or t.num) or not _covered(t, all_keys) or _covered(t, aligned[t.clause].keys):
            continue
        rivals = [u for u in aligned[t.clause].tokens if (
            (t.name and u.name and u.low not in s.names and not any(name_matches(u.low, {f"w:{n}"}) for n in s.names))
            or (t.num and u.num and u.num not in s_nums))]
        if rivals:
            misplaced.append(f"{t.low}~{rivals[0].low}")

    roles = _role_swaps(s, clause_toks, aligned)
    num_swaps = _number_swaps(s, p) + _slot_swaps(s, p) + _substitutions(s, whole)
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


def supports(sentence: str, passage: str, similarity: Similarity | None = None) -> bool:
    """True when `passage` supports `sentence` (see `judge`)."""
    return judge(sentence, passage, similarity).supported
