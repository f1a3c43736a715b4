"""Pure reading of attributed claims: "The Herald (3 June 2025) reports five hours [1]".

Such a sentence is the claim ("five hours") quoted from passage [1] plus the outlet and date of
[1]'s article, which come from the store's metadata, not from the passage text. A verifier judges
the claim against the passage and checks the wrapper against the metadata (issue 14).
"""

from __future__ import annotations

import re

from assistant.dates import human_date, iso_date
from assistant.lexical import fold
from assistant.types import Passage

_VERBS = r"reports|reported|says|said|gives|gave|states|stated|writes|wrote|puts it at|put it at"
_ATTR = re.compile(
    r"^\s*(?:the sources disagree\s*:\s*)?(?:(?:the most recent source|earlier|however|but|meanwhile|while)\s*,?\s*)?"
    r"(?P<who>[^()\[\];:]+?)\s*(?:\((?P<date>[^()]{3,40})\))?\s*,?\s+(?:(?:also|instead|still)\s+)?"
    rf"(?:{_VERBS})\s+(?:that\s+)?(?P<claim>\S.*?)\s*[.!]?\s*$",
    re.IGNORECASE,
)
_GENERIC = {"one report", "another report", "another", "one source", "another source", "a report", "a second report",
            "one article", "another article", "one outlet", "another outlet", "the other report", "the other source"}
_SPLIT = re.compile(r"(?<=\])\s*;\s+")


def attributed_claim(sentence: str, passage: Passage) -> str | None:
    """The claim of `sentence` when it attributes it to `passage`'s own article (or to "one report"), else None.

    The outlet must be the article's outlet (or its title in quotes) and a date, when given, its date.
    """
    m = _ATTR.match(sentence)
    if not m:
        return None
    who = re.sub(r"\s+", " ", fold(m.group("who"))).strip(" ,\"“”'")
    claim = m.group("claim").strip()
    if who in _GENERIC:
        return None if m.group("date") else claim
    outlet = str(passage.metadata.get("outlet") or "")
    known = {fold(outlet), fold(re.sub(r"^the\s+", "", outlet, flags=re.IGNORECASE)), fold(passage.title)} - {""}
    if re.sub(r"^the\s+", "", who) not in {re.sub(r"^the\s+", "", k) for k in known}:
        return None
    if m.group("date"):
        date = passage.metadata.get("date")
        given = fold(m.group("date")).strip()
        if not date:
            return None
        if iso_date(m.group("date")) != date and given not in {fold(human_date(date)), fold(str(date))} and not (
            fold(human_date(date)).startswith(given + " ")  # "3 June" for 3 June 2025
        ):
            return None
    return claim


def split_attributions(text: str) -> str:
    """Attributed claims joined by semicolons, one sentence each ("A reports x [1]; B reports y [2]." -> two).

    Left unchanged unless every clause after the first is attributed, so other semicolons stay.
    """
    parts = _SPLIT.split(text)
    if len(parts) < 2 or not all(_ATTR.match(re.sub(r"\s*\[\d{1,3}\]", "", p)) for p in parts[1:]):
        return text
    return ". ".join(p if i == 0 else p[:1].upper() + p[1:] for i, p in enumerate(parts))
