"""Pure yes/no polarity of a sentence toward what a question asks ("Did the council approve ...?").

Two sides of a yes/no question rarely say "approved" and "did not approve"; they say "approved"
and "rejected", "rose" and "fell", "reopened" and "remains closed". The question's verb picks a
pair of opposite event families below (or, when none holds it, the verb and its WordNet verb
antonyms); a sentence is on one pole when it states a word of that pole and none of the other
(a negated word counts for the other pole).
"""

from __future__ import annotations

from functools import lru_cache

from assistant.lexical import content_terms, stem, words
from assistant.lexicon import load as load_lexicon

# Opposite event families (lemmas; multiword ones joined by "_"), general English, not tied to any article.
FAMILIES: tuple[tuple[frozenset[str], frozenset[str]], ...] = tuple(
    (frozenset(a.split()), frozenset(b.split()))
    for a, b in (
        ("approve accept pass adopt back endorse ratify sanction go_ahead green_light agree okay",
         "reject refuse decline fail defeat block veto vote_down turn_down throw_out disapprove"),
        ("rise raise increase grow climb gain boost lift jump soar",
         "fall cut decrease drop decline lower reduce trim slash shrink sink"),
        ("open reopen resume restart", "close closed shut suspend halt"),
        ("win", "lose"),
        ("end stop cancel scrap abandon halt quit resign call_off finish step_down",
         "continue keep stay remain proceed carry_on retain go_ahead"),
    )
)
_NEGATORS = {"not", "no", "never", "n't", "nt", "cannot", "neither", "nor", "without"}
_PARTICLES = {"ahead", "down", "off", "on", "out", "up"}


@lru_cache(maxsize=4096)
def _lemmas(word: str) -> frozenset[str]:
    return frozenset({word, *load_lexicon().base_forms(word)})


def _tokens(text: str) -> list[tuple[frozenset[str], bool]]:
    """(lemmas, negated) per word and per verb+particle pair ("voted down" -> vote_down)."""
    ws = [w.replace("’", "'") for w in words(text)]
    out: list[tuple[frozenset[str], bool]] = []
    for i, w in enumerate(ws):
        negated = any(x in _NEGATORS or x.endswith("n't") for x in ws[max(0, i - 3) : i])
        lemmas = set(_lemmas(w))
        if i + 1 < len(ws) and ws[i + 1] in _PARTICLES:
            lemmas |= {f"{lemma}_{ws[i + 1]}" for lemma in _lemmas(w)}
        if "-" in w:  # "go-ahead"
            lemmas.add(w.replace("-", "_"))
        out.append((frozenset(lemmas), negated))
    return out


def poles(question: str) -> list[tuple[frozenset[str], frozenset[str]]]:
    """The opposite (yes, no) word sets a yes/no question's verbs pick."""
    asked = set().union(*(lemmas for lemmas, _ in _tokens(question))) if question.strip() else set()
    picked = [(a, b) if asked & a else (b, a) for a, b in FAMILIES if asked & (a | b)]
    if picked:
        return picked
    lex = load_lexicon()
    out = []
    for w in words(question):
        opposite = {x.split("/")[0] for lemma in _lemmas(w) for x in lex.antonyms(lemma) if x.endswith("/v")}
        if opposite and len(w) > 3:
            out.append((frozenset(_lemmas(w)), frozenset(opposite)))
    return out


NEAR = 4  # a pole word counts when one of the question's other terms is this close ("cut its dividend")


def stance(sentence: str, yes: frozenset[str], no: frozenset[str], about: frozenset[str] = frozenset()) -> int:
    """+1 when the sentence states only the `yes` pole, -1 only the `no` pole, 0 neither or both.

    With `about` (stemmed terms of the question), only pole words near one of them count: in "cut its
    dividend despite a rise in profits" the rise is about something else.
    """
    said_yes = said_no = False
    tokens = _tokens(sentence)
    stems = [stem(w) for w in words(sentence)]
    for i, (lemmas, negated) in enumerate(tokens):
        if about and not about & {*stems[max(0, i - NEAR) : i], *stems[i + 1 : i + NEAR + 1]}:
            continue
        if lemmas & yes:
            said_no, said_yes = said_no or negated, said_yes or not negated
        if lemmas & no:
            said_yes, said_no = said_yes or negated, said_no or not negated
    return (1 if said_yes else 0) - (1 if said_no else 0) if said_yes != said_no else 0


def opposed(question: str, a: str, b: str) -> bool:
    """True when sentences `a` and `b` take opposite poles on the yes/no question."""
    out = False
    for yes, no in poles(question):
        pole_stems = {stem(x) for x in yes | no}
        about = frozenset(t for t in content_terms(question) if t not in pole_stems and not _lemmas(t) & (yes | no))
        out = out or stance(a, yes, no, about) * stance(b, yes, no, about) < 0
    return out
