"""answer(question, history=...) -> Answer, and the Assistant that holds the parts."""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import extractive
from assistant.bm25 import Bm25Index
from assistant.citations import verify
from assistant.condense import History, condense
from assistant.ingest import Progress, ingest
from assistant.retrieve import Retriever
from assistant.settings import Settings
from assistant.store import Store
from assistant.types import Answer, Citation, IngestReport, Passage

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, too long, ...)."""


def clean_question(question: str, max_chars: int) -> str:
    """Strip control characters and surrounding space; reject empty or over-long questions."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    text = "".join(ch if unicodedata.category(ch) not in ("Cc", "Cf") or ch in "\n\t" else " " for ch in question)
    text = " ".join(text.split())
    if not text:
        raise QuestionError("the question is empty: type a question about the articles")
    if len(text) > max_chars:
        raise QuestionError(
            f"the question is {len(text):,} characters long; the limit is {max_chars:,}. Ask something shorter."
        )
    return text


class Assistant:
    """The pipeline's parts, built once from Settings: store, embedder, retriever, answerer."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embeddings | None = None,
        store: Store | None = None,
    ) -> None:
        """Build the parts the settings ask for (or use the ones passed in)."""
        from assistant.embed import embeddings_name, make_embeddings

        self.settings = settings or Settings.from_env()
        self.embedder = embedder or make_embeddings(self.settings)
        self.store = store or Store(self.settings)
        self.store.open(embeddings_name(self.embedder))
        self.bm25 = Bm25Index(self.store.local_dir("bm25"))
        self.retriever = Retriever(self.store, self.embedder, self.bm25)
        self._llm: Any = None
        self._sentence_vectors: dict[str, Any] = {}

    # -- ingest ----------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Sequence[Path | str] | None = None,
        *,
        prune: bool = False,
        progress: Progress | None = None,
        show_progress: bool | None = None,
    ) -> IngestReport:
        """Ingest files or folders (default: the corpus folder)."""
        targets = [Path(p) for p in (paths or [self.settings.corpus_dir])]
        return ingest(
            targets, self.store, self.embedder, self.settings, prune=prune, progress=progress,
            show_progress=show_progress, bm25=self.bm25,
        )

    def ensure_ingested(self, progress: Progress | None = None) -> IngestReport | None:
        """Ingest the corpus folder when the store is empty."""
        if self.store.records():
            return None
        if not self.settings.corpus_dir.is_dir():
            return None
        return self.ingest(progress=progress, show_progress=False if progress else None)

    def rebuild(self) -> None:
        """Drop the collections (e.g. after changing the embedding model)."""
        from assistant.embed import embeddings_name

        self.store.drop()
        self.store.open(embeddings_name(self.embedder))
        self.retriever = Retriever(self.store, self.embedder, self.bm25)

    # -- answer ----------------------------------------------------------------------------------

    def offline_answer(
        self, question: str, passages: Sequence[Passage], context: str = ""
    ) -> tuple[str, list[Citation], bool]:
        """The extractive answer: the offline default and every fallback from the LLM path."""
        return extractive.compose(question, passages, context=context, similarity=self.sentence_similarity)

    def sentence_similarity(self, question: str, sentences: Sequence[str]) -> list[float]:
        """Cosine similarity of the question to each sentence (sentence vectors are cached)."""
        import numpy as np

        missing = [s for s in dict.fromkeys(sentences) if s not in self._sentence_vectors]
        if missing:
            for text, vector in zip(missing, self.embedder.embed_documents(missing)):
                self._sentence_vectors[text] = np.asarray(vector, dtype=np.float32)
            while len(self._sentence_vectors) > 50_000:
                self._sentence_vectors.pop(next(iter(self._sentence_vectors)))
        q = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        return [float(self._sentence_vectors[s] @ q) for s in sentences]

    @property
    def llm(self) -> Any:
        """The LLM answerer (built on first use) when settings.llm == 'openai'."""
        if self._llm is None and self.settings.llm == "openai":
            from assistant.llm import LLMAnswerer

            self._llm = LLMAnswerer(self.settings, offline=self.offline_answer)
        return self._llm

    def answer(
        self,
        question: str,
        history: History | None = None,
        *,
        doc_ids: Sequence[str] | None = None,
        top_k: int | None = None,
    ) -> Answer:
        """Answer one question (with optional history) from the stored articles."""
        final: Answer | None = None
        for event in self.stream(question, history, doc_ids=doc_ids, top_k=top_k):
            if isinstance(event, Answer):
                final = event
        assert final is not None
        return final

    def stream(
        self,
        question: str,
        history: History | None = None,
        *,
        doc_ids: Sequence[str] | None = None,
        top_k: int | None = None,
    ) -> Iterator[str | Answer]:
        """Yield draft text pieces (LLM backend only), then the verified Answer last."""
        t0 = time.perf_counter()
        question = clean_question(question, self.settings.max_question_chars)
        timings: dict[str, float] = {}
        if self.llm is not None and history:
            standalone, context = self.llm.condense(question, history), ""
        else:
            standalone, context = condense(question, history)
        search_text = f"{standalone} {context}".strip() if context else standalone
        # The offline rule keeps a follow-up's own words and passes the conversation as context.
        offline_question = question if context else standalone
        t1 = time.perf_counter()
        passages = self.retriever.search(search_text, top_k or self.settings.top_k, doc_ids)
        timings["retrieve_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        if self.llm is not None:
            result: Answer | None = None
            for event in self.llm.stream(standalone, passages, context=context):
                if isinstance(event, Answer):
                    result = event
                else:
                    yield event
            assert result is not None
            result.question = question
        else:
            text, citations, refused = self.offline_answer(offline_question, passages, context)
            result = Answer(question, text, refused, citations, list(passages), backend="extractive")
        result.standalone_question = standalone if standalone != question else None
        timings["answer_s"] = time.perf_counter() - t2
        timings["total_s"] = time.perf_counter() - t0
        result.timings = {k: round(v, 4) for k, v in timings.items()}
        problems = verify(result)
        if problems:  # never show an answer whose citations do not check out
            log.warning("answer failed verification: %s", "; ".join(problems))
            text, citations, refused = self.offline_answer(offline_question, passages, context)
            result = Answer(
                question, text, refused, citations, list(passages), backend="extractive",
                standalone_question=result.standalone_question, timings=result.timings,
                notes=[*result.notes, "The answer failed citation checks; showing the offline answer instead."],
                changes=[*result.changes, *problems],
            )
            still = verify(result)
            if still:  # not expected: the offline answer quotes verbatim; never show unchecked citations
                log.error("offline answer failed verification too: %s", "; ".join(still))
                result.text, result.citations, result.refused = extractive.refusal(question, passages), [], True
                result.changes = [*result.changes, *still]
        yield result


_DEFAULT: Assistant | None = None


def default_assistant() -> Assistant:
    """The process-wide Assistant built from the environment (created on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Assistant(Settings.from_env())
        _DEFAULT.ensure_ingested()
    return _DEFAULT


def answer(question: str, history: History | None = None) -> Answer:
    """Answer a question about the articles in the corpus, with verified citations.

    Uses settings from the environment; ingests `corpus/` first when the store is empty.

    Args:
        question: The question, in plain text.
        history: Earlier (question, answer) pairs of the conversation, oldest first.

    Returns:
        An Answer whose `text` carries [n] markers that index `citations`.
    """
    return default_assistant().answer(question, history)
