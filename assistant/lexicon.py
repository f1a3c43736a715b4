"""WordNet 3.0 lemmas, synonyms and antonyms for the support judge.

A subset of Princeton WordNet 3.0 extracted by scripts/extract_wordnet.py and shipped in
assistant/data/wordnet/ with its license; loaded once, lazily (about 0.6 s), never downloaded.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

PATH = Path(__file__).parent / "data" / "wordnet" / "lexicon.json.gz"
# WordNet's "morphy" detachment rules, tried in order: (suffix, replacement, parts of speech it yields)
_RULES = (
    ("ies", "y", "nv"), ("ses", "s", "n"), ("xes", "x", "n"), ("zes", "z", "n"), ("ches", "ch", "n"),
    ("shes", "sh", "n"), ("men", "man", "n"), ("es", "e", "v"), ("es", "", "v"), ("s", "", "nv"),
    ("ed", "e", "v"), ("ed", "", "v"), ("ing", "e", "v"), ("ing", "", "v"), ("ied", "y", "v"),
    ("est", "e", "ar"), ("est", "", "ar"), ("er", "e", "ar"), ("er", "", "ar"), ("ier", "y", "ar"), ("iest", "y", "ar"),
)
ANY_POS = "nvar"


class Lexicon:
    """Lookups over the shipped WordNet subset; words are lowercase, multiword lemmas joined by "_"."""

    def __init__(self, data: dict) -> None:
        """Wrap the decoded lexicon file (see scripts/extract_wordnet.py for its fields)."""
        self.lemmas: frozenset[str] = frozenset(data["lemmas"])
        self.proper: frozenset[str] = frozenset(data["proper"])
        self.capitalised: frozenset[str] = frozenset(data["capitalised"])
        self._exc: dict[str, list[str]] = data["exc"]
        self._syn: dict[str, list[int]] = data["syn"]
        self._ant: dict[str, list[str]] = data["ant"]
        self._forms: dict[str, tuple[tuple[str, str], ...]] = {}

    def forms(self, word: str) -> tuple[tuple[str, str], ...]:
        """(lemma, parts of speech) an inflected word may be: rejected -> (reject, v), higher -> (high, ar)."""
        cached = self._forms.get(word)
        if cached is not None:
            return cached
        out: dict[str, str] = {word: ANY_POS} if word in self.lemmas else {}
        for entry in self._exc.get(word, ()):
            base, pos = entry.split("/")
            out[base] = "".join(sorted(set(out.get(base, "")) | set(pos)))
        for suffix, repl, pos in _RULES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 2:
                stem = word[: -len(suffix)] + repl
                if stem not in self.lemmas and repl == "" and len(stem) > 2 and stem[-1] == stem[-2]:
                    stem = stem[:-1]  # stopped -> stop, bigger -> big
                if stem in self.lemmas:
                    out[stem] = "".join(sorted(set(out.get(stem, "")) | set(pos)))
        result = tuple(out.items())
        self._forms[word] = result
        return result

    def is_common(self, word: str) -> bool:
        """True for a word WordNet never capitalises (council, harbor): capitalised, it is part of a title."""
        forms = self.forms(word)
        return bool(forms) and not any(lemma in self.capitalised for lemma, _ in forms)

    def is_proper(self, word: str) -> bool:
        """True for a name: unknown to WordNet, or only ever capitalised there (Texas, not China or President)."""
        return word not in self.lemmas or word in self.proper

    def base_forms(self, word: str) -> tuple[str, ...]:
        """The WordNet lemmas an inflected word may be (rejected -> reject, higher -> high, went -> go)."""
        return tuple(lemma for lemma, _ in self.forms(word))

    def synonym_ids(self, lemma: str) -> list[int]:
        """Ids of the frequent senses of a lemma; two lemmas sharing an id are synonyms."""
        return self._syn.get(lemma, [])

    def antonyms(self, lemma: str) -> list[str]:
        """Antonyms of a lemma as "antonym/pos" (direct, spread over its frequent senses' synonyms, or indirect)."""
        return self._ant.get(lemma, [])


@lru_cache(maxsize=1)
def load() -> Lexicon:
    """The shipped lexicon (read once per process)."""
    return Lexicon(json.loads(gzip.decompress(PATH.read_bytes())))


_DEMONYM_END = ("ans", "an", "ese", "ish")


def is_demonym(word: str) -> bool:
    """True for a people or nationality word made from a place WordNet knows: american, russians, european, chinese."""
    w = word.lower()
    if not w.endswith(_DEMONYM_END):
        return False
    lx = load()
    for cut in range(1, 5):
        stem = w[:-cut]
        if len(stem) >= 4 and any(f in lx.proper or f in lx.capitalised for f in (stem, stem + "a", stem + "e", stem + "ia")):
            return True
    return False
