"""Shared fixtures: the real embedded model, real Chroma (folder and `chroma run` server), no network."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ASSISTANT_LLM", "ASSISTANT_CHROMA_URL", "ASSISTANT_DATA_DIR"):
    os.environ.pop(var, None)

from scripts.servers import ChromaServer, free_port  # noqa: E402,F401 - free_port is used by test modules

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEED = CORPUS / "putin-sends-trump-envoys-away.md"

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> None:
    """Allow loopback and unix sockets only: tests must never reach the network."""
    if isinstance(address, tuple) and self.family in (socket.AF_INET, socket.AF_INET6):
        host = str(address[0])
        if not (host.startswith("127.") or host in ("::1", "localhost", "0.0.0.0")):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
    _real_connect(self, address)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real embedded model, loaded once."""
    from assistant.embed import LocalEmbeddings

    return LocalEmbeddings()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A `chroma run` server for the whole session."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["folder", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, object]:
    """Settings overrides for each store backend; server collections get unique names."""
    if request.param == "folder":
        return {"data_dir": tmp_path / "data"}
    server: ChromaServer = request.getfixturevalue("chroma_server")
    return {"data_dir": tmp_path / "data", "chroma_url": server.url, "collection": f"t{abs(hash(tmp_path)) % 10**10}"}


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of corpus/."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def make_assistant(embedder, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build an Assistant over a temp data dir (and optional corpus/backend overrides)."""
    from assistant import Assistant, Settings

    def build(**overrides: object) -> Assistant:
        values: dict[str, object] = {"data_dir": tmp_path / "data", "corpus_dir": CORPUS}
        values.update(overrides)
        return Assistant(Settings(**values), embedder=embedder)  # type: ignore[arg-type]

    return build
