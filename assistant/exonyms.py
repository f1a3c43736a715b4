"""Places written in another language or an older form, read as one place: "Göteborg" is "Gothenburg".

The table is assistant/data/exonyms.tsv ("other name<TAB>name"). Pure text rewriting, loaded once.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "data" / "exonyms.tsv"


@cache
def _table() -> tuple[re.Pattern[str], dict[str, str]]:
    pairs: dict[str, str] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            other, name = line.split("\t")
            pairs[other] = name
    alternatives = "|".join(re.escape(k) for k in sorted(pairs, key=len, reverse=True))
    return re.compile(rf"(?<![\w'’-])(?:{alternatives})(?!\w)"), pairs


def same_place_names(text: str) -> str:
    """`text` with every other name of a place in the table replaced by the name it stands for."""
    pattern, pairs = _table()
    return pattern.sub(lambda m: pairs[m.group(0)], text)
