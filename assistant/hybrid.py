"""HybridRetriever: our dense + BM25 fused search as a LangChain retriever (invoke, ainvoke, batch)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from assistant.types import Passage

if TYPE_CHECKING:
    from assistant.answer import Assistant

METADATA_KEYS = ("doc_id", "chunk_id", "title", "outlet", "date", "url", "start", "end", "score", "dense_rank", "bm25_rank")


def to_document(p: Passage) -> Document:
    """A passage as a LangChain Document: the passage text, and where it comes from and how it ranked."""
    meta = p.metadata
    return Document(
        page_content=p.text,
        id=p.chunk_id,
        metadata={
            "doc_id": p.doc_id, "chunk_id": p.chunk_id, "title": p.title,
            "outlet": meta.get("outlet") or None, "date": meta.get("date") or meta.get("published") or None,
            "url": meta.get("url") or None, "start": p.start, "end": p.end, "score": p.score,
            "dense_rank": p.dense_rank, "bm25_rank": p.bm25_rank, "source": p.source,
        },
    )


class HybridRetriever(BaseRetriever):
    """Top-k passages from the stored articles: Chroma's dense ranking fused with BM25 by reciprocal rank.

    `HybridRetriever(k=4)` uses the settings from the environment (and ingests the corpus
    folder when the store is empty, like `answer()`); `Assistant.as_retriever()` uses that
    assistant's parts. Filters (`doc_ids=[...]`, and any other keyword `Retriever.search`
    accepts) apply to every query; `invoke(query, k=2)` overrides k for one call.

    Example:
        >>> retriever = HybridRetriever(k=4)
        >>> docs = retriever.invoke("Who did Trump send to Moscow?")
        >>> docs[0].metadata["chunk_id"], docs[0].metadata["start"]
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    k: int | None = None
    """Passages per query (None: the settings' top_k)."""
    filters: dict[str, Any] = Field(default_factory=dict)
    """Keyword filters passed to the search, e.g. {"doc_ids": ["a.md"]}."""
    assistant: Any = Field(default=None, exclude=True, repr=False)
    """The Assistant whose store and models are searched (default: built from the environment)."""

    def model_post_init(self, context: Any, /) -> None:
        """Build the default assistant when none was passed."""
        if self.assistant is None:
            from assistant.answer import default_assistant

            self.assistant = default_assistant()
        if self.k is not None and self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        bot: Assistant = self.assistant
        k = kwargs.pop("k", None) or self.k or bot.settings.top_k
        filters = {**self.filters, **kwargs}
        return [to_document(p) for p in bot.search(query, k, **filters)]
