"""Answers questions over source articles, with citations you can check.

Start with `answer(question)`; `Assistant(settings)` holds the parts (store, embedder, retriever,
answerer) for ingest, answer, stream, search; `Assistant.as_retriever()` and
`Assistant.as_runnable()` (or `HybridRetriever(k=4)`) plug them into LangChain.
"""

from assistant.answer import Assistant, QuestionError, UnknownDocumentError, answer
from assistant.chain import AnswerRunnable
from assistant.hybrid import HybridRetriever
from assistant.settings import Settings, SettingsError
from assistant.types import Answer, Citation, Document, IngestReport, Passage


def ingest(*paths: str, prune: bool = False) -> IngestReport:
    """Ingest files or folders (default: the corpus folder) with settings from the environment."""
    from assistant.answer import default_assistant

    return default_assistant().ingest(list(paths) or None, prune=prune)


__all__ = [
    "Answer", "AnswerRunnable", "Assistant", "Citation", "Document", "HybridRetriever", "IngestReport", "Passage",
    "QuestionError", "Settings", "SettingsError", "UnknownDocumentError", "answer", "ingest",
]
