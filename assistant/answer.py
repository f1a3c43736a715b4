"""answer(question, history=...) -> Answer, and the Assistant that holds the parts."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import unicodedata
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import conflicts, extractive, provenance
from assistant.bm25 import Bm25Index
from assistant.citations import verify
from assistant.condense import History, condense, needs_context
from assistant.ingest import Progress, ingest, is_upload, remove_document
from assistant.neardup import NearDupIndex
from assistant.retrieve import Retriever
from assistant.settings import Settings
from assistant.store import Store
from assistant.types import Answer, Citation, Conflict, IngestReport, Passage, Query
from assistant.writer_lock import OnWait

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from assistant.chain import AnswerRunnable
    from assistant.hybrid import HybridRetriever

log = logging.getLogger(__name__)


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, too long, ...)."""


class UnknownDocumentError(QuestionError):
    """A document filter names an id that no stored document has."""


def check_doc_ids(doc_ids: Sequence[str] | str | None, known: Collection[str]) -> list[str] | None:
    """The filter as a list, or UnknownDocumentError naming every id that matches no stored document."""
    if doc_ids is None:
        return None
    ids = [doc_ids] if isinstance(doc_ids, str) else [str(d) for d in doc_ids]
    if not ids:
        return None
    unknown = [d for d in dict.fromkeys(ids) if d not in known]
    if not unknown:
        return ids
    import difflib

    names = ", ".join(repr(d) for d in unknown)
    hints = [m for d in unknown for m in difflib.get_close_matches(d, list(known), n=1, cutoff=0.6)]
    guess = f" (did you mean {', '.join(repr(h) for h in dict.fromkeys(hints))}?)" if hints else ""
    raise UnknownDocumentError(
        f"unknown document id{'s' if len(unknown) > 1 else ''} {names}: no stored document has "
        f"{'them' if len(unknown) > 1 else 'it'}{guess}. The valid ids are the \"documents\" of "
        "`assistant ingest --json` (or the file names in the web chat's Library tab)."
    )


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
        self.near = NearDupIndex(self.store.local_dir("minhash"))  # syndicated copies, beside the BM25 index
        self.retriever = Retriever(self.store, self.embedder, self.bm25)
        self._llm: Any = None
        self._sentence_vectors: dict[str, Any] = {}
        self.lock = threading.RLock()  # LangChain batch/async callers share one store, index and model

    # -- ingest ----------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Sequence[Path | str] | None = None,
        *,
        prune: bool = False,
        progress: Progress | None = None,
        show_progress: bool | None = None,
        wait: bool = True,
        on_wait: OnWait | None = None,
    ) -> IngestReport:
        """Ingest files or folders (default: the corpus folder), holding the store's writer lock.

        Another writer (ingest, upload, delete) makes it wait, calling `on_wait` once with the
        reason; with `wait=False` it raises `WriterBusy` instead.
        """
        targets = [Path(p) for p in (paths or [self.settings.corpus_dir])]
        with self.store.writer("ingest", wait=wait, on_wait=on_wait):
            return ingest(
                targets, self.store, self.embedder, self.settings, prune=prune, progress=progress,
                show_progress=show_progress, bm25=self.bm25, near=self.near,
            )

    def ensure_ingested(self, progress: Progress | None = None) -> IngestReport | None:
        """Ingest the corpus folder when the store is empty."""
        if self.store.records():
            return None
        if not self.settings.corpus_dir.is_dir():
            return None
        return self.ingest(progress=progress, show_progress=False if progress else None)

    def rebuild(self, *, wait: bool = True, on_wait: OnWait | None = None) -> None:
        """Drop the collections (e.g. after changing the embedding model), holding the writer lock."""
        from assistant.embed import embeddings_name

        with self.store.writer("rebuild", wait=wait, on_wait=on_wait):
            self.store.drop()
            self.store.open(embeddings_name(self.embedder))
            self.retriever = Retriever(self.store, self.embedder, self.bm25)

    def delete_upload(self, doc_id: str, *, wait: bool = True, on_wait: OnWait | None = None) -> bool:
        """Delete an uploaded document: its record, chunks, BM25 rows and file; False if there is none.

        Corpus documents are refused (ValueError): they are removed by deleting the file and
        running `assistant ingest --prune`.
        """
        with self.store.writer("delete", wait=wait, on_wait=on_wait):
            record = self.store.records(fresh=True).get(doc_id)
            if record is None:
                return False
            if not is_upload(record, self.settings):
                raise ValueError(f"{doc_id!r} is not an upload; only uploaded documents can be deleted here")
            remove_document(self.store, doc_id, self.embedder, self.settings)  # a syndicated copy takes its place
            Path(record.source).unlink(missing_ok=True)
        self.retriever.sync()  # its BM25 rows are dead from now on; compaction drops them
        return True

    # -- search and LangChain --------------------------------------------------------------------

    def search(
        self, query: str, k: int | None = None, doc_ids: Sequence[str] | str | None = None, **filters: Any
    ) -> list[Passage]:
        """The hybrid search answers use: top-k passages for a query (unknown document ids are an error)."""
        ids = check_doc_ids(doc_ids, self.store.records())
        with self.lock:
            return self.retriever.search(query, k or self.settings.top_k, ids, **filters)

    def as_retriever(self, k: int | None = None, **filters: Any) -> HybridRetriever:
        """The hybrid search as a LangChain retriever (filters as in `search`)."""
        from assistant.hybrid import HybridRetriever

        return HybridRetriever(assistant=self, k=k, filters=filters)

    def as_runnable(self) -> AnswerRunnable:
        """The answer pipeline as a LangChain Runnable: {"question", "history"?} -> the `ask --json` dict."""
        from assistant.chain import AnswerRunnable

        return AnswerRunnable(assistant=self)

    # -- answer ----------------------------------------------------------------------------------

    def offline_answer(
        self, question: str, passages: Sequence[Passage], context: str = ""
    ) -> tuple[str, list[Citation], bool]:
        """The extractive answer: the offline default and every fallback from the LLM path."""
        out = self.offline_composed(question, passages, context)
        return out.text, out.citations, out.refused

    def offline_composed(
        self, question: str, passages: Sequence[Passage], context: str = "", search: extractive.Search | None = None
    ) -> extractive.Composed:
        """The extractive answer with its notes (e.g. which part of a question the sources do not cover).

        `search`: how to search for one part of a multi-part question (each part also reads its own passages).
        """
        return extractive.answer(question, passages, context=context, similarity=self.sentence_similarity, search=search)

    def sentence_similarity(self, question: str, sentences: Sequence[str]) -> list[float]:
        """Cosine similarity of the question to each sentence (sentence vectors are cached)."""
        import numpy as np

        cache = self._sentence_vectors  # shared by concurrent questions: never assume an entry survives
        vectors = {s: v for s in dict.fromkeys(sentences) if (v := cache.get(s)) is not None}
        missing = [s for s in dict.fromkeys(sentences) if s not in vectors]
        if missing:
            for text, vector in zip(missing, self.embedder.embed_documents(missing)):
                vectors[text] = cache[text] = np.asarray(vector, dtype=np.float32)
            while len(cache) > 50_000:
                try:
                    cache.pop(next(iter(cache)), None)
                except (RuntimeError, StopIteration):
                    break
        q = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        return [float(vectors[s] @ q) for s in sentences]

    @property
    def llm(self) -> Any:
        """The LLM answerer (built on first use) when settings.llm is 'openai' or 'local'."""
        if self._llm is None and self.settings.llm in ("openai", "local"):
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
        sources: Sequence[str] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Answer:
        """Answer one question (with optional history) from the stored articles.

        `sources` (outlet names), `since` and `until` (YYYY-MM-DD, inclusive) limit the articles searched.
        """
        final: Answer | None = None
        for event in self.stream(
            question, history, doc_ids=doc_ids, top_k=top_k, sources=sources, since=since, until=until
        ):
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
        sources: Sequence[str] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Iterator[str | Answer]:
        """Yield draft text pieces (LLM backend only), then the verified Answer last."""
        t0 = time.perf_counter()
        query = self.prepare(question, history, doc_ids)
        try:
            scope = self.retriever.scope(sources, since, until)
        except ValueError as exc:
            raise QuestionError(str(exc)) from None
        if scope.empty:  # say so, instead of a refusal that blames the articles
            yield Answer(query.question, no_match(scope), True, [], [], notes=[no_match(scope)])
            return
        timings: dict[str, float] = {}
        t1 = time.perf_counter()
        passages = self.retriever.search(
            query.search_text, top_k or self.settings.top_k, query.doc_ids, sources=sources, since=since, until=until
        )
        timings["retrieve_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        if self.llm is not None:
            result: Answer | None = None
            for event in self.llm.stream(query.standalone, passages, context=query.context):
                if isinstance(event, Answer):
                    result = event
                else:
                    yield event
            assert result is not None
        else:
            k = top_k or self.settings.top_k
            result = self.offline_result(query, passages, lambda part: self.retriever.search(
                part, k, query.doc_ids, sources=sources, since=since, until=until))
        timings["answer_s"] = time.perf_counter() - t2
        timings["total_s"] = time.perf_counter() - t0
        result.timings = {k: round(v, 4) for k, v in timings.items()}
        result = self.finish(result, query, passages)
        if scope.filters:
            n = len(scope.doc_ids or ())
            result.notes.append(f"Searched only the {n} article{'s' if n != 1 else ''} matching: {scope.filters.describe()}.")
        yield result

    def prepare(self, question: str, history: History | None = None, doc_ids: Sequence[str] | str | None = None) -> Query:
        """Check the question and filter, and condense a follow-up (the model's condenser on the LLM backend)."""
        question = clean_question(question, self.settings.max_question_chars)
        ids = check_doc_ids(doc_ids, self.store.records())
        if self.llm is not None and history and needs_context(question):  # a question naming its subject stands alone
            standalone, context = self.llm.condense(question, history), ""
        else:
            standalone, context = condense(question, history)
        search_text = f"{standalone} {context}".strip() if context else standalone
        # The offline rule keeps a follow-up's own words and passes the conversation as context.
        offline_question = question if context else standalone
        return Query(question, standalone, context, search_text, offline_question, ids)

    def offline_result(self, query: Query, passages: Sequence[Passage], search: extractive.Search | None = None) -> Answer:
        """The offline answer to a prepared query (`search`: for the parts of a multi-part question)."""
        composed = self.offline_composed(query.offline_question, passages, query.context, search)
        return Answer(query.question, composed.text, composed.refused, composed.citations, composed.passages,
                      backend="extractive", notes=list(composed.notes), refusal_score=composed.refusal_score)

    def finish(self, result: Answer, query: Query, passages: Sequence[Passage]) -> Answer:
        """Check every citation of a drafted Answer; show the offline answer instead when any fails."""
        question = result.question = query.question
        result.standalone_question = query.standalone if query.standalone != question else None
        problems = verify(result)
        if problems:  # never show an answer whose citations do not check out
            log.warning("answer failed verification: %s", "; ".join(problems))
            text, citations, refused = self.offline_answer(query.offline_question, passages, query.context)
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
        self._newsroom(result, query.offline_question)
        return result

    def _newsroom(self, result: Answer, question: str) -> None:
        """Show disagreements between sources, list syndicated copies on citations, date the answer."""
        cited = [] if result.refused else [(c.doc_id, c.quote) for c in result.citations]
        sides = conflicts.detect(question, result.passages, cited, self.sentence_similarity)
        if sides:
            shown = {c.doc_id for c in result.citations}
            if result.refused or result.backend == "extractive":
                text, citations, conflict = conflicts.compose(question, sides)
                trial = Answer(result.question, text, False, citations, result.passages)
            elif {d.found.passage.doc_id for d in sides} <= shown:
                first = {c.doc_id: c for c in reversed(result.citations)}
                conflict = Conflict(tuple(
                    dataclasses.replace(cl, citation=first[cl.doc_id].n, text=first[cl.doc_id].quote)
                    for cl in conflicts.compose(question, sides)[2].claims
                ))
                trial = result
            else:  # the model's answer gave one side only: add the disagreement, with its own citations
                text, citations, conflict = conflicts.compose(question, sides, first_n=len(result.citations) + 1)
                trial = Answer(result.question, f"{result.text} {text}", False, [*result.citations, *citations],
                               result.passages)
            if not verify(trial):
                result.text, result.citations, result.refused = trial.text, trial.citations, False
                result.conflicts = [conflict]
        if result.refused:
            return
        records = self.store.records()
        result.citations = provenance.with_copies(result.citations, records)
        result.as_of = provenance.as_of(result.citations, records)


def no_match(scope: Any) -> str:
    """What to say when the filters match no article."""
    text = f"No articles match the filters ({scope.filters.describe()}), so nothing was searched."
    if scope.unknown_sources:
        known = ", ".join(scope.outlets[:20]) or "none (no article names its outlet)"
        text += f" No outlet is called {', '.join(repr(s) for s in scope.unknown_sources)}; the library's outlets: {known}."
    return text


_DEFAULT: Assistant | None = None


def default_assistant() -> Assistant:
    """The process-wide Assistant built from the environment (created on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Assistant(Settings.from_env())
        _DEFAULT.ensure_ingested()
    return _DEFAULT


def answer(
    question: str,
    history: History | None = None,
    *,
    sources: Sequence[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Answer:
    """Answer a question about the articles in the corpus, with verified citations.

    Uses settings from the environment; ingests `corpus/` first when the store is empty.

    Args:
        question: The question, in plain text.
        history: Earlier (question, answer) pairs of the conversation, oldest first.
        sources: Only articles from these outlets (names compared case-insensitively).
        since: Only articles dated on or after this day (YYYY-MM-DD).
        until: Only articles dated on or before this day (YYYY-MM-DD).

    Returns:
        An Answer whose `text` carries [n] markers that index `citations`; `as_of` dates it and
        `conflicts` lists sources that disagree.
    """
    return default_assistant().answer(question, history, sources=sources, since=since, until=until)
