"""One frozen Settings object: offline defaults, environment overrides, clear errors."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, Mapping

LLMBackend = Literal["extractive", "openai", "local"]
JudgeChoice = Literal["auto", "offline", "llm"]
EmbeddingBackend = Literal["local", "openai"]


class SettingsError(ValueError):
    """A setting is missing, malformed or in conflict with another."""


def _env_int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer; set it to a whole number such as {default}.") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is out of range; use a value between {low} and {high}.")
    return value


def _env_float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number; set it to a number such as {default}.") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is out of range; use a value between {low} and {high}.")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with defaults that work offline.

    Build it with `Settings.from_env()` to honour environment variables, or pass
    fields directly. `Settings()` is the pure offline default.
    """

    data_dir: Path = Path(".assistant")
    corpus_dir: Path = Path("corpus")
    chroma_url: str | None = None
    collection: str = "articles"
    embeddings: EmbeddingBackend = "local"
    openai_embedding_model: str = "text-embedding-3-small"
    llm: LLMBackend = "extractive"
    model: str = "gpt-4o-mini"
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    temperature: float = 0.0
    timeout: float = 30.0
    max_retries: int = 2
    context_window: int = 16000
    answer_tokens: int = 800
    chunk_tokens: int = 96
    chunk_overlap: int = 16
    top_k: int = 6
    max_question_chars: int = 2000
    max_file_bytes: int = 20 * 1024 * 1024
    ingest_batch_chars: int = 120_000  # documents are embedded and committed in groups of about this much text
    local_model: Path | None = None  # a GGUF for ASSISTANT_LLM=local (default: the bundled Qwen2.5-Coder 1.5B)
    local_threads: int = 1  # llama.cpp threads; 1 measured fastest on 2 shared cores (benchmarks/results/local_threads.json)
    local_context: int = 4096  # the local model's context window (tokens)
    local_passages: int = 4  # passages the local model reads (best first); fewer = faster prompts
    answer_format: Literal["text", "json"] = "text"  # how the LLM writes its draft (json: schema with quotes)
    judge: JudgeChoice = "auto"  # support judge of the verifier: auto = the LLM judge with any LLM backend, else offline
    auth: str | None = field(default=None, repr=False)  # ASSISTANT_AUTH: "user:password" logins for the web chat

    def __post_init__(self) -> None:
        if not 32 <= self.chunk_tokens <= 2000:
            raise SettingsError("chunk_tokens must be between 32 and 2000 (ASSISTANT_CHUNK_TOKENS).")
        if not 0 <= self.chunk_overlap < self.chunk_tokens // 2:
            raise SettingsError(
                f"ASSISTANT_CHUNK_OVERLAP={self.chunk_overlap} must be at least 0 and less than half of "
                f"ASSISTANT_CHUNK_TOKENS={self.chunk_tokens} (at most {max(0, self.chunk_tokens // 2 - 1)})."
            )
        if self.llm not in ("extractive", "openai", "local"):
            raise SettingsError(f"ASSISTANT_LLM={self.llm!r} is not known; use 'extractive', 'openai' or 'local'.")
        if self.answer_format not in ("text", "json"):
            raise SettingsError(f"ASSISTANT_ANSWER_FORMAT={self.answer_format!r} is not known; use 'text' or 'json'.")
        if self.judge not in ("auto", "offline", "llm"):
            raise SettingsError(f"ASSISTANT_JUDGE={self.judge!r} is not known; use 'auto', 'offline' or 'llm'.")
        if self.judge == "llm" and self.llm == "extractive":
            raise SettingsError(
                "ASSISTANT_JUDGE=llm needs an LLM backend: set ASSISTANT_LLM=local (or openai), or ASSISTANT_JUDGE=offline."
            )
        if self.embeddings not in ("local", "openai"):
            raise SettingsError(f"ASSISTANT_EMBEDDINGS={self.embeddings!r} is not known; use 'local' or 'openai'.")
        if self.llm == "openai" and not (self.openai_api_key or self.openai_base_url):
            raise SettingsError(
                "ASSISTANT_LLM=openai needs a model server: set the OPENAI_API_KEY environment variable "
                "(OpenAI) or OPENAI_BASE_URL (any OpenAI-compatible server), or set ASSISTANT_LLM=extractive."
            )
        if self.embeddings == "openai" and not (self.openai_api_key or self.openai_base_url):
            raise SettingsError(
                "ASSISTANT_EMBEDDINGS=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL); "
                "or set ASSISTANT_EMBEDDINGS=local for the embedded model."
            )
        if self.chroma_url is not None and not self.chroma_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"ASSISTANT_CHROMA_URL={self.chroma_url!r} must start with http:// or https://, "
                "e.g. http://127.0.0.1:8000."
            )
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise SettingsError(
                f"ASSISTANT_DATA_DIR={str(self.data_dir)!r} is a file, not a folder; point it at a folder "
                "(it is created if missing)."
            )
        name = self.collection
        if not (3 <= len(name) <= 60) or not all(c.isalnum() or c in "._-" for c in name):
            raise SettingsError(
                f"collection name {name!r} must be 3-60 characters of letters, digits, '.', '_' or '-' "
                "(ASSISTANT_COLLECTION)."
            )
        if self.top_k < 1 or self.top_k > 50:
            raise SettingsError("top_k must be between 1 and 50 (ASSISTANT_TOP_K).")
        self.logins  # noqa: B018 - a malformed ASSISTANT_AUTH fails here, naming the variable (never its value)

    @property
    def logins(self) -> list[tuple[str, str]] | None:
        """Web-chat logins from ASSISTANT_AUTH ("user:password", several separated by commas), or None."""
        raw = (self.auth or "").strip()
        if not raw:
            return None
        pairs = []
        for item in raw.split(","):
            user, sep, password = item.strip().partition(":")
            if not (sep and user and password):
                raise SettingsError(
                    "ASSISTANT_AUTH must be 'user:password' pairs separated by commas, e.g. 'ana:s3cret'."
                )
            pairs.append((user, password))
        return pairs

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read settings from environment variables; keyword overrides win."""
        env = os.environ if env is None else env
        key = env.get("OPENAI_API_KEY") or None
        base_url = env.get("OPENAI_BASE_URL") or None
        llm_raw = (env.get("ASSISTANT_LLM") or "").strip().lower()
        llm = llm_raw or ("openai" if (key or base_url) else "extractive")
        values: dict[str, Any] = {
            "data_dir": Path(env.get("ASSISTANT_DATA_DIR") or ".assistant"),
            "corpus_dir": Path(env.get("ASSISTANT_CORPUS") or "corpus"),
            "chroma_url": (env.get("ASSISTANT_CHROMA_URL") or None),
            "collection": env.get("ASSISTANT_COLLECTION") or "articles",
            "embeddings": (env.get("ASSISTANT_EMBEDDINGS") or "local").strip().lower(),
            "openai_embedding_model": env.get("ASSISTANT_EMBEDDING_MODEL") or "text-embedding-3-small",
            "llm": llm,
            "model": env.get("ASSISTANT_MODEL") or "gpt-4o-mini",
            "openai_api_key": key,
            "openai_base_url": base_url,
            "temperature": _env_float(env, "ASSISTANT_TEMPERATURE", 0.0, 0.0, 2.0),
            # an in-process model on a small CPU needs longer than a server's first byte
            "timeout": _env_float(env, "ASSISTANT_TIMEOUT", 300.0 if llm == "local" else 30.0, 0.1, 600.0),
            "max_retries": _env_int(env, "ASSISTANT_MAX_RETRIES", 2, 0, 10),
            "context_window": _env_int(env, "ASSISTANT_CONTEXT_WINDOW", 16000, 512, 2_000_000),
            "answer_tokens": _env_int(env, "ASSISTANT_ANSWER_TOKENS", 800, 16, 32000),
            "chunk_tokens": _env_int(env, "ASSISTANT_CHUNK_TOKENS", 96, 32, 2000),
            "chunk_overlap": _env_int(env, "ASSISTANT_CHUNK_OVERLAP", 16, 0, 999),
            "top_k": _env_int(env, "ASSISTANT_TOP_K", 6, 1, 50),
            "ingest_batch_chars": _env_int(env, "ASSISTANT_INGEST_BATCH_CHARS", 120_000, 1, 10_000_000),
            "local_model": Path(env["ASSISTANT_LOCAL_MODEL"]) if env.get("ASSISTANT_LOCAL_MODEL") else None,
            "local_threads": _env_int(env, "ASSISTANT_LOCAL_THREADS", 1, 1, 256),
            "local_context": _env_int(env, "ASSISTANT_LOCAL_CONTEXT", 4096, 512, 131072),
            "local_passages": _env_int(env, "ASSISTANT_LOCAL_PASSAGES", 4, 1, 50),
            "answer_format": (env.get("ASSISTANT_ANSWER_FORMAT") or "text").strip().lower(),
            "judge": (env.get("ASSISTANT_JUDGE") or "auto").strip().lower(),
            "auth": env.get("ASSISTANT_AUTH") or None,
        }
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        """Return a copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @property
    def judge_name(self) -> str:
        """The support judge the verifier uses: 'llm' or 'offline' (ASSISTANT_JUDGE=auto resolved).

        auto: the LLM judge whenever an LLM backend is configured (openai or local), else offline. The offline
        judge stays a floor under the LLM judge (assistant/verify.py), so grounding is never weaker.
        """
        if self.judge == "auto":
            return "offline" if self.llm == "extractive" else "llm"
        return self.judge

    @property
    def chroma_path(self) -> Path:
        """Folder of the embedded Chroma store."""
        return self.data_dir / "chroma"

    @property
    def uploads_dir(self) -> Path:
        """Folder where uploaded articles are kept."""
        return self.data_dir / "uploads"

    def describe(self) -> dict[str, str]:
        """Human-readable summary with secrets left out."""
        return {
            "store": self.chroma_url or str(self.chroma_path),
            "collection": self.collection,
            "embeddings": self.embeddings,
            "llm": {"extractive": "extractive", "openai": f"openai ({self.model})",
                    "local": f"local ({self.local_model.name if self.local_model else 'qwen2.5-coder-1.5b-instruct'})"}[self.llm],
            "judge": self.judge_name,
            "top_k": str(self.top_k),
        }
