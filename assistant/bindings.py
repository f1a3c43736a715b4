"""Where a sentence's claims sit in a passage: clause alignment, and who or what each name and number is bound to.

Pure functions over analysed texts (assistant/claims.py), used by the support judge: a clause is
aligned to the passage sentences that state most of it; names bound in the passage to another
name's verb, names or numbers standing in another's slot, and numbers attached to another
number's unit are reported as swaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from assistant.claims import Text, Token, name_matches, owner_of, unit_of

WINDOW = 2  # passage sentences a clause may be aligned to at once
ENTITY_WEIGHT = 0.5  # names and numbers count less than other words when aligning a clause
NEIGHBOURS = 2  # content words on each side that place a name or number in its context
BIND_SHARE = 0.5  # share of a clause's words a passage clause must state to bind its verb to another name
BIND_DISTANCE = 3  # tokens between a name and a word it is bound to (its verb or object)
SUBSTITUTION = 6  # longest replaced stretch (tokens) checked for a swapped name or number
SLOT_CONTEXT = 2  # tokens on each side of a name or number that make its slot
SLOT_RIVAL = 2  # context tokens another name or number must share to take a slot ...
SLOT_MARGIN = 2  # ... and this many more than the name or number the sentence put there


def covered(t: Token, keys: set[str]) -> bool:
    """A sentence token occurs among match keys (a name as itself or its demonym)."""
    return name_matches(t.low, keys) if t.name else bool(t.keys & keys)


@dataclass
class Window:
    """Passage sentences [a, b] a sentence clause is aligned to."""

    tokens: list[Token]
    keys: set[str]


def windows(p: Text) -> list[Window]:
    """Every run of 1..WINDOW consecutive passage sentences."""
    by_sentence: list[list[Token]] = [[] for _ in range(p.n_sentences)]
    for t in p.tokens:
        by_sentence[t.sentence].append(t)
    out = []
    for a in range(p.n_sentences):
        for b in range(a, min(a + WINDOW, p.n_sentences)):
            toks = [t for s in by_sentence[a: b + 1] for t in s]
            out.append(Window(toks, {k for t in toks for k in t.keys}))
    return out


def align(toks: list[Token], options: list[Window]) -> Window:
    """The passage window covering most of the clause's words (names and numbers count less), shortest first."""
    def score(w: Window) -> tuple[float, int]:
        got = sum((ENTITY_WEIGHT if t.name or t.num else 1.0) for t in toks if covered(t, w.keys))
        return got, -len(w.tokens)
    return max(options, key=score)


def _clause_sets(w: Window) -> dict[int, tuple[set[str], set[str]]]:
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


def _of(tokens: list[Token], at: int) -> bool:
    """An "of" right before the token numbered `at` ("the envoy of Trump")."""
    return any(t.i == at - 1 and t.low == "of" for t in tokens)


def role_swaps(s: Text, clause_toks: dict[int, list[Token]], aligned: dict[int, Window]) -> list[str]:
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
                        if reversed_ and _of(s.tokens, e2.i) and 0 < pv[0] - p2[0] <= 2:
                            continue  # "the envoy of Trump" where the passage says "Trump's (special) envoy"
                        s_passive = _passive(s.tokens, v.i, e2.i)
                        p_passive = any(t.low == "by" for t in pt if pv[0] < t.i < max(p1[0], p2[0]))
                        if (reversed_ and s_passive == p_passive) or (same and s_passive != p_passive):
                            out.append(f"{e1.low}~{v.low}~{e2.low}")
    return list(dict.fromkeys(out))


def neighbours(tokens: list[Token], at: int, reach: int = NEIGHBOURS) -> set[str]:
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


def slot_swaps(s: Text, p: Text) -> list[str]:
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


def single_sentences(options: list[Window]) -> list[Window]:
    """The windows of one passage sentence."""
    return [w for w in options if w.tokens and w.tokens[0].sentence == w.tokens[-1].sentence]


def _anchor(op: tuple[str, int, int, int, int], tokens: list[Token]) -> bool:
    """A copied stretch that places what lies next to it: equal, and not just the sentence's opening "The".

    An opening "The" matches any "the" of the passage, so it places nothing.
    """
    return op[0] == "equal" and (op[1] > 0 or any(t.content for t in tokens[op[1]:op[2]]))


def substitutions(s: Text, w: Window) -> list[str]:
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
        before = k == 0 or _anchor(ops[k - 1], s.tokens)
        after = k == len(ops) - 1 or _anchor(ops[k + 1], s.tokens)
        if not (before and after) or len(ops) == 1:
            continue
        mine = [t for t in s.tokens[i1:i2] if t.name or t.num is not None or t.initial_cap]
        theirs = [t for t in w.tokens[j1:j2] if t.name or t.num is not None or t.initial_cap]
        for t in mine:
            rivals = [u for u in theirs if (u.num is None) == (t.num is None) and not (
                u.num == t.num if t.num is not None else name_matches(t.low, {f"w:{u.low}"}))]
            if rivals and not any((u.num == t.num) if t.num is not None else name_matches(t.low, {f"w:{u.low}"})
                                  for u in theirs):
                out.append(f"{t.low}~{rivals[0].low}")
                break
    return out


def number_swaps(s: Text, p: Text) -> list[str]:
    """Numbers whose unit, in the passage, is counted by another number ("3 points" when it had 12).

    Also a count given to what another count belongs to: "the plan had 20 points" when the passage has a
    "27-point plan" and 20 points of something else.
    """
    out: list[str] = []
    p_units: list[tuple[str, Token, Token | None]] = []
    for t in p.tokens:
        if t.num is not None:
            u = unit_of(p, t)
            if u is not None:
                p_units.append((t.num, u, owner_of(p, t, u)))
    for t in s.tokens:
        if t.num is None:
            continue
        u = unit_of(s, t)
        if u is None:
            continue
        mine = [pu for n, pu, _ in p_units if n == t.num]
        others = [n for n, pu, _ in p_units if n != t.num and (pu.keys & u.keys)]
        if mine and others and not any(pu.keys & u.keys for pu in mine):
            out.append(f"{t.low}~{u.low}")
            continue
        owner = owner_of(s, t, u)
        if owner is None:
            continue
        owned = [n for n, pu, po in p_units if pu.keys & u.keys and po is not None and po.keys & owner.keys]
        if owned and t.num not in owned:
            out.append(f"{t.low}~{owner.low}")
    return out
