"""A small scripted OpenAI-compatible HTTP server for tests: real sockets, chosen completions.

`ScriptedLLM` serves POST /v1/chat/completions (stream and non-stream, SSE) and, when `embed`
is set, POST /v1/embeddings with the vectors it computes. Each completion request
takes the next `Reply` from the script (or asks `responder(body)` when the script is empty)
and records the request body and headers for the test to inspect.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted response.

    text: the completion; status/headers/body: an HTTP error instead; delay: seconds to wait
    before answering; cut_after: close the socket after this many content chunks (stream only);
    no_finish: end the stream cleanly but without finish_reason and [DONE]; garbage: send a
    malformed SSE event after this many chunks.
    """

    text: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    delay: float = 0.0
    cut_after: int | None = None
    no_finish: bool = False
    garbage: int | None = None
    piece: int = 12


@dataclass
class Seen:
    """A request as the server received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float

    @property
    def messages(self) -> list[dict[str, str]]:
        """The chat messages of the request."""
        return list(self.body.get("messages", []))

    def text(self) -> str:
        """All message contents joined."""
        return "\n".join(str(m.get("content", "")) for m in self.messages)


class ScriptedLLM:
    """Serve scripted completions on 127.0.0.1 until `close()`."""

    def __init__(self, responder: Callable[[dict[str, Any]], Reply] | None = None) -> None:
        self.script: list[Reply] = []
        self.responder = responder
        self.seen: list[Seen] = []
        self.embed: Callable[[list[str]], list[list[float]]] | None = None  # serves /v1/embeddings when set
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                body = json.loads(raw or b"{}")
                with outer.lock:
                    outer.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()))
                if self.path.rstrip("/").endswith("/embeddings") and outer.embed is not None:
                    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(outer.embed(texts))]
                    self._json(200, {"object": "list", "data": data, "model": body.get("model", "scripted"),
                                     "usage": {"prompt_tokens": 1, "total_tokens": 1}})
                    return
                with outer.lock:
                    reply = outer.script.pop(0) if outer.script else None
                if reply is None:
                    reply = outer.responder(body) if outer.responder else Reply("The sources don't say.")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                try:
                    if reply.delay:
                        time.sleep(reply.delay)
                    if reply.status != 200:
                        self._json(reply.status, reply.body or {"error": {"message": f"scripted {reply.status}"}},
                                   reply.headers)
                    elif body.get("stream"):
                        self._stream(reply, body)
                    else:
                        self._json(200, _completion(reply.text, body.get("model", "scripted")), reply.headers)
                except (BrokenPipeError, ConnectionResetError, socket.timeout):
                    self.close_connection = True

            def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                model = body.get("model", "scripted")
                pieces = [reply.text[i : i + reply.piece] for i in range(0, len(reply.text), reply.piece)]
                for i, piece in enumerate(pieces):
                    if reply.cut_after is not None and i >= reply.cut_after:
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    if reply.garbage is not None and i == reply.garbage:
                        self._chunk(b"data: {\"choices\": [{\"delta\": {\"content\": \n\n")
                    self._chunk(_sse(_delta(piece, model)))
                    time.sleep(0.002)
                if not reply.no_finish:
                    self._chunk(_sse(_delta("", model, finish="stop")))
                    self._chunk(b"data: [DONE]\n\n")
                self._chunk(b"")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def push(self, *replies: Reply | str) -> None:
        """Queue replies for the next requests (a str is a plain successful completion)."""
        with self.lock:
            self.script.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


def _delta(text: str, model: str, finish: str | None = None) -> dict[str, Any]:
    delta = {"content": text} if text else {}
    return {
        "id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
