"""Answers questions over source articles, with citations you can check."""

from assistant.answer import Assistant, QuestionError, answer
from assistant.settings import Settings, SettingsError
from assistant.types import Answer, Citation, Document, IngestReport, Passage


def ingest(*paths: str, prune: bool = False) -> IngestReport:
    """Ingest files or folders (default: the corpus folder) with settings from the environment."""
    from assistant.answer import default_assistant

    return default_assistant().ingest(list(paths) or None, prune=prune)


__all__ = [
    "Answer", "Assistant", "Citation", "Document", "IngestReport", "Passage", "QuestionError", "Settings",
    "SettingsError", "answer", "ingest",
]
