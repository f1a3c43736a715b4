"""Pure citation logic: parse [n] markers, build citations from passages, verify quotes and markers."""

from __future__ import annotations

import re

from assistant.chunk import split_sentences
from assistant.types import Answer, Citation, Passage

MARKER = re.compile(r"\[(\d{1,3})\]")
_ANY_MARKER = re.compile(r"\[(?:\d{1,3})(?:\s*[,;]\s*\d{1,3})*\]")


class CitationError(ValueError):
    """An answer's citations do not check out."""


def markers(text: str) -> list[int]:
    """All [n] numbers in order of appearance (also inside [1, 2] groups)."""
    found: list[int] = []
    for group in _ANY_MARKER.findall(text):
        found.extend(int(n) for n in re.findall(r"\d+", group))
    return found


def normalize_markers(text: str) -> str:
    """Rewrite grouped markers like [1, 2] or [1][2] spacing into [1] [2]."""
    return _ANY_MARKER.sub(lambda m: " ".join(f"[{n}]" for n in re.findall(r"\d+", m.group())), text)


def answer_sentences(text: str) -> list[tuple[str, list[int]]]:
    """Split an answer into sentences, each with the [n] markers that belong to it.

    Markers that follow a sentence's final punctuation belong to that sentence.
    """
    text = normalize_markers(text)
    # Move markers that sit after the full stop (and a closing quote: `time." [2]`) to before it, so sentence
    # splitting keeps them with their sentence.
    text = re.sub(r"([.!?][\"'”’)]*)((?:\s*\[\d{1,3}\])+)", lambda m: m.group(2).strip() + m.group(1), text)
    out: list[tuple[str, list[int]]] = []
    for s, e in split_sentences(text):
        sentence = text[s:e]
        nums = [int(n) for n in MARKER.findall(sentence)]
        clean = re.sub(r"\s*\[\d{1,3}\]", "", sentence).strip()
        if clean:
            out.append((clean, nums))
        elif nums and out:
            out[-1][1].extend(nums)
    return out


def quote_citation(n: int, passage: Passage, start: int, end: int) -> Citation:
    """A citation quoting passage-relative span [start, end) of `passage`."""
    return Citation(
        n=n,
        doc_id=passage.doc_id,
        title=passage.title,
        source=passage.source,
        chunk_id=passage.chunk_id,
        quote=passage.text[start:end],
        start=passage.start + start,
        end=passage.start + end,
        score=passage.score,
    )


def verify(answer: Answer, documents: dict[str, str] | None = None) -> list[str]:
    """Structural check of an answer; returns a list of problems (empty when sound).

    Every [n] in the text must have a citation, every citation must be used, and every
    quote must occur verbatim at its offsets: in the full document text when given,
    otherwise in the passage it was taken from.
    """
    problems: list[str] = []
    by_n = {c.n: c for c in answer.citations}
    used = set(markers(answer.text))
    for n in sorted(used - set(by_n)):
        problems.append(f"[{n}] has no citation")
    for n in sorted(set(by_n) - used):
        problems.append(f"citation {n} is not referenced in the text")
    passages = {p.chunk_id: p for p in answer.passages}
    for c in answer.citations:
        if not c.quote.strip():
            problems.append(f"citation {c.n} has an empty quote")
            continue
        if documents is not None and c.doc_id in documents:
            if documents[c.doc_id][c.start : c.end] != c.quote:
                problems.append(f"citation {c.n}: quote is not at {c.start}:{c.end} in {c.doc_id}")
            continue
        p = passages.get(c.chunk_id)
        if p is None:
            problems.append(f"citation {c.n}: passage {c.chunk_id} was not retrieved")
        elif not (p.start <= c.start and c.end <= p.end) or p.text[c.start - p.start : c.end - p.start] != c.quote:
            problems.append(f"citation {c.n}: quote is not at {c.start}:{c.end} in passage {c.chunk_id}")
    if not answer.refused and not answer.citations:
        problems.append("answer has no citations")
    return problems
