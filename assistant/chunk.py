"""Pure token-aware chunking: sentence-packed chunks with exact character offsets."""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.types import Chunk, Document

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "sr", "jr", "prof", "gen", "gov", "sen", "rep", "lt", "col", "capt",
    "sgt", "vs", "etc", "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "no", "fig", "e.g", "i.e", "u.s", "u.k", "u.n", "approx",
}
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split text[start:end] into sentence spans; every line is a boundary too.

    Spans exclude surrounding whitespace, so `text[s:e]` is a clean sentence.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        line_start = start + line.start()
        line_text = line.group()
        cursor = 0
        for match in _SENTENCE_END.finditer(line_text):
            word = re.search(r"([\w.]+)[.!?…]*[\"'”’)\]]*$", line_text[: match.end()])
            token = word.group(1).rstrip(".").lower() if word else ""
            if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                continue
            spans.append((line_start + cursor, line_start + match.end()))
            cursor = match.end()
        spans.append((line_start + cursor, line_start + len(line_text)))
    return [(s + _lead(text[s:e]), e - _trail(text[s:e])) for s, e in spans if text[s:e].strip()]


def _lead(s: str) -> int:
    return len(s) - len(s.lstrip())


def _trail(s: str) -> int:
    return len(s) - len(s.rstrip())


def _split_long(text: str, start: int, end: int, max_tokens: int, count: Callable[[str], int]) -> list[tuple[int, int]]:
    """Split an over-long span at word boundaries into pieces of at most max_tokens."""
    pieces: list[tuple[int, int]] = []
    piece_start = start
    last_end = start
    for word in re.finditer(r"\S+", text[start:end]):
        w_end = start + word.end()
        if count(text[piece_start:w_end]) > max_tokens and last_end > piece_start:
            pieces.append((piece_start, last_end))
            piece_start = start + word.start()
        last_end = w_end
    if last_end > piece_start:
        pieces.append((piece_start, last_end))
    return pieces


def chunk_text(
    text: str, chunk_tokens: int, overlap_tokens: int, count: Callable[[str], int]
) -> list[tuple[int, int]]:
    """Pack sentences into spans of at most `chunk_tokens`, overlapping by whole sentences.

    A chunk closes early at a paragraph break (blank line) once it is half full.
    """
    units: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for s, e in split_sentences(text):
        n = count(text[s:e])
        if n > chunk_tokens:
            units.extend((ps, pe, count(text[ps:pe])) for ps, pe in _split_long(text, s, e, chunk_tokens, count))
        else:
            units.append((s, e, n))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j = i
        total = 0
        while j < len(units):
            extra = units[j][2] + (1 if j > i else 0)
            if j > i and total + extra > chunk_tokens:
                break
            if j > i and total >= chunk_tokens // 2 and "\n\n" in text[units[j - 1][1] : units[j][0]]:
                break
            total += extra
            j += 1
        spans.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        # Next chunk starts with trailing sentences of this one, up to the overlap budget.
        back = j
        carried = 0
        while back - 1 > i and carried + units[back - 1][2] <= overlap_tokens:
            back -= 1
            carried += units[back][2]
        i = back if back < j else j
    return spans


def chunk_document(
    doc: Document, chunk_tokens: int, overlap_tokens: int, count: Callable[[str], int]
) -> list[Chunk]:
    """Chunk a document; ids come from the document id, its content hash and the position."""
    return [
        Chunk(
            chunk_id=f"{doc.doc_id}#{doc.content_hash[:12]}#{index}",
            doc_id=doc.doc_id,
            index=index,
            text=doc.text[s:e],
            start=s,
            end=e,
        )
        for index, (s, e) in enumerate(chunk_text(doc.text, chunk_tokens, overlap_tokens, count))
    ]
