"""Pure yes/no polarity of a sentence toward what a question asks ("Did the council approve ...?").

Two sides of a yes/no question rarely say "approved" and "did not approve"; they say "approved"
and "rejected", "rose" and "fell", "reopened" and "remains closed". The question's verb picks a
pair of opposite event families below (and the verb with its WordNet verb antonyms); a sentence
is on the pole of the first pole word it states about the question's subject (its main predicate:
in "went ahead on Monday, halting trains" the strike went ahead). A negated word counts for the
other pole; so does a word governed by a negative implicative ("failed to qualify", "refused to
sign", "denied plans to close", "voted against", "stayed away from"): a closed grammatical class,
not a list of topics.
"""

from __future__ import annotations

from functools import lru_cache

from assistant.lexical import content_terms, stem, words
from assistant.lexicon import load as load_lexicon

# Opposite event families (lemmas; multiword ones joined by "_"), general English, not tied to any article.
FAMILIES: tuple[tuple[frozenset[str], frozenset[str]], ...] = tuple(
    (frozenset(a.split()), frozenset(b.split()))
    for a, b in (
        ("approve accept pass adopt back endorse ratify sanction go_ahead green_light agree okay vote_for",
         "reject refuse decline fail defeat block veto vote_down vote_against turn_down throw_out disapprove"),
        ("rise raise increase grow climb gain boost lift jump soar surge rebound accelerate",
         "fall cut decrease drop decline lower reduce trim slash shrink sink ease dip slip slide slow tumble plunge slump"),
        ("open reopen resume restart", "close closed shut suspend halt"),
        ("win", "lose"),
        ("end stop cancel scrap abandon halt quit resign call_off finish step_down",
         "continue keep stay remain proceed carry_on retain go_ahead"),
        # outcomes of a ruling, a planned event, a measure, a claim, an election, an invitation
        ("uphold confirm affirm", "overturn quash strike_down reverse overrule annul"),
        ("go_ahead proceed take_place", "postpone delay defer call_off cancel"),
        ("extend prolong renew", "lift end expire scrap"),
        ("confirm admit acknowledge", "deny dismiss"),
        ("win elect reelect re-elect", "lose oust unseat"),
        ("attend join", "skip miss boycott snub stay_away"),
        ("raise increase", "freeze"),
    )
)
_NEGATORS = {"not", "no", "never", "n't", "nt", "cannot", "neither", "nor", "without"}
# Negative implicatives: "X failed to Y" entails not Y (Karttunen 1971); with the prepositions that
# negate what they govern ("against", "away from", "out of" a plan).
_NEG_IMPLICATIVES = {"fail", "refuse", "decline", "deny", "avoid", "neglect", "reject", "oppose", "rule_out", "pull_out",
                     "stay_away", "against", "without", "instead"}


@lru_cache(maxsize=4096)
def _lemmas(word: str) -> frozenset[str]:
    return frozenset({word, *load_lexicon().base_forms(word)})


def _tokens(text: str) -> list[tuple[frozenset[str], bool]]:
    """(lemmas, negated) per word and per verb+particle pair ("voted down" -> vote_down)."""
    ws = [w.replace("’", "'") for w in words(text)]
    out: list[tuple[frozenset[str], bool]] = []
    implicative = [bool(_lemmas(w) & _NEG_IMPLICATIVES) or (
        i + 1 < len(ws) and bool({f"{lemma}_{ws[i + 1]}" for lemma in _lemmas(w)} & _NEG_IMPLICATIVES))
        for i, w in enumerate(ws)]
    for i, w in enumerate(ws):
        negated = any(x in _NEGATORS or x.endswith("n't") for x in ws[max(0, i - 3) : i]) or any(
            implicative[max(0, i - 4) : i])
        lemmas = set(_lemmas(w))
        if "-" in w:  # "go-ahead"
            lemmas.add(w.replace("-", "_"))
        if i + 1 < len(ws):  # "green light", "stepped down", "voted against": a two-word lemma
            lemmas |= {f"{lemma}_{ws[i + 1]}" for lemma in _lemmas(w)}
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
    """+1 when the sentence's first pole word about the question is on the `yes` pole, -1 on the `no` pole, 0 none.

    With `about` (stemmed terms of the question), only pole words near one of them count: in "cut its
    dividend despite a rise in profits" the rise is about something else. The first one is the main
    predicate: a later one sits in a clause that tells the consequence ("went ahead, halting trains").
    A word on both poles ("go ahead": approve and continue) decides nothing by itself.
    """
    tokens = _tokens(sentence)
    stems = [stem(w) for w in words(sentence)]
    for i, (lemmas, negated) in enumerate(tokens):
        if about and not about & {*stems[max(0, i - NEAR) : i], *stems[i + 1 : i + NEAR + 1]}:
            continue
        y, n = bool(lemmas & yes), bool(lemmas & no)
        if y != n:
            return (1 if y else -1) * (-1 if negated else 1)
    return 0


def opposed(question: str, a: str, b: str) -> bool:
    """True when sentences `a` and `b` take opposite poles on the yes/no question."""
    out = False
    for yes, no in poles(question):
        pole_stems = {stem(x) for x in yes | no}
        about = frozenset(t for t in content_terms(question) if t not in pole_stems and not _lemmas(t) & (yes | no))
        out = out or stance(a, yes, no, about) * stance(b, yes, no, about) < 0
    return out
