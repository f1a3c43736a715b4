"""Pure provenance helpers: which outlets carried a cited text, and how current an answer is."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from assistant.dates import human_date
from assistant.store import DocRecord
from assistant.types import Citation


def copies_of(records: Mapping[str, DocRecord]) -> dict[str, list[DocRecord]]:
    """Syndicated copies (records with `copy_of`) by the document they copy."""
    out: dict[str, list[DocRecord]] = {}
    for r in records.values():
        original = r.metadata.get("copy_of")
        if original:
            out.setdefault(original, []).append(r)
    return out


def with_copies(citations: Sequence[Citation], records: Mapping[str, DocRecord]) -> list[Citation]:
    """Citations with `also_in` listing every other outlet that carried the same text."""
    copies = copies_of(records)
    out = []
    for c in citations:
        also = [
            {"doc_id": r.doc_id, "outlet": r.metadata.get("outlet", ""), "date": r.metadata.get("date", "")}
            for r in sorted(copies.get(c.doc_id, []), key=lambda r: (r.metadata.get("date", ""), r.doc_id))
        ]
        out.append(dataclasses.replace(c, also_in=also) if also else c)
    return out


def as_of(citations: Sequence[Citation], records: Mapping[str, DocRecord]) -> str | None:
    """The newest publication date (ISO) among the cited documents; None when none is dated."""
    dates = [records[c.doc_id].metadata.get("date", "") for c in citations if c.doc_id in records]
    dated = [d for d in dates if len(d) == 10 and d[4] == "-" and d[7] == "-"]
    return max(dated) if dated else None


def as_of_line(date: str | None, n_sources: int) -> str:
    """'As of 4 June 2025, per 2 sources' (empty when undated)."""
    if not date:
        return ""
    return f"As of {human_date(date)}, per {n_sources} source{'s' if n_sources != 1 else ''}"
