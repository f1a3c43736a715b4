"""Plain data types that flow through the pipeline."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One article: its text and what we know about it."""

    doc_id: str
    source: str
    title: str
    text: str
    content_hash: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A span of a document, `text == document.text[start:end]`."""

    chunk_id: str
    doc_id: str
    index: int
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its ranking scores and document details."""

    chunk_id: str
    doc_id: str
    title: str
    source: str
    text: str
    start: int
    end: int
    score: float
    dense_rank: int | None = None
    bm25_rank: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    similarity: float | None = None  # cosine of question and passage embeddings, when dense search found it

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """What an [n] marker points to: a verbatim quote with its offsets in the document."""

    n: int
    doc_id: str
    title: str
    source: str
    chunk_id: str
    quote: str
    start: int
    end: int
    score: float
    also_in: list[dict[str, str]] = field(default_factory=list)  # syndicated copies: {"doc_id", "outlet", "date"}
    answer_start: int | None = None  # document offsets of the short answer inside the quote, when one opens the text
    answer_end: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Claim:
    """One source's value for a disputed fact: the quoted text, its [n], and who said it when."""

    text: str
    citation: int
    doc_id: str
    outlet: str
    date: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Conflict:
    """Sources that give different values for what the question asks, newest first."""

    claims: tuple[Claim, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: {"claims": [...]}."""
        return {"claims": [c.to_dict() for c in self.claims]}


@dataclass(frozen=True)
class Filters:
    """Which documents a question may be answered from: outlets and a publication-date range (ISO dates)."""

    sources: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None

    def __bool__(self) -> bool:
        """True when any filter is set."""
        return bool(self.sources or self.since or self.until)

    def describe(self) -> str:
        """The filters in words, e.g. "source Herald or Courier, from 2025-06-01"."""
        parts = []
        if self.sources:
            parts.append("source " + " or ".join(self.sources))
        if self.since and self.until:
            parts.append(f"dated {self.since} to {self.until}")
        elif self.since:
            parts.append(f"dated {self.since} or later")
        elif self.until:
            parts.append(f"dated {self.until} or earlier")
        return ", ".join(parts)


@dataclass
class Answer:
    """An answer whose text carries [n] markers that index `citations`."""

    question: str
    text: str
    refused: bool
    citations: list[Citation]
    passages: list[Passage]
    backend: str = "extractive"
    standalone_question: str | None = None
    notes: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    as_of: str | None = None  # newest publication date among the cited sources (ISO)
    conflicts: list[Conflict] = field(default_factory=list)
    refusal_score: float | None = None  # the answerer's belief that the sources do not answer (0..1), when it has one

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `assistant ask --json` and the web `/ask` endpoint."""
        return {
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "question": self.question,
            "standalone_question": self.standalone_question,
            "backend": self.backend,
            "notes": list(self.notes),
            "changes": list(self.changes),
            "passages": [p.to_dict() for p in self.passages],
            "timings": dict(self.timings),
            "as_of": self.as_of,
            "conflicts": [c.to_dict() for c in self.conflicts],
        }


@dataclass(frozen=True)
class Query:
    """A checked question, ready to search: its standalone form and the conversation it leans on."""

    question: str  # as asked (cleaned)
    standalone: str  # what is searched and answered (the question itself unless it is a follow-up)
    context: str  # earlier turn's words, for the offline answerer
    search_text: str
    offline_question: str
    doc_ids: list[str] | None = None


@dataclass
class IngestReport:
    """What an ingest run did; `to_dict()` is the `--json` contract."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    chunks_total: int = 0
    documents: list[str] = field(default_factory=list)  # ids of every stored document, sorted
    near_duplicates: int = 0  # documents kept as syndicated copies of a stored one

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": list(self.skipped),
            "chunks_total": self.chunks_total,
            "documents": list(self.documents),
            "near_duplicates": self.near_duplicates,
        }
