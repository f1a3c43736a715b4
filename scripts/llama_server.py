"""Serve the local instruct model (llama.cpp from the `xllamacpp` wheel) as an OpenAI-compatible server on loopback.

For tests and manual checks of the OpenAI backend against a real model, with no build:
`pip install -e ".[local]"`, then `python scripts/llama_server.py --port 8080` and
`OPENAI_BASE_URL=http://127.0.0.1:8080/v1 assistant ask ...`. The model is the one `ASSISTANT_LLM=local`
uses (assembled and sha256-checked by assistant.local); it listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import free_port, stop_process, wait_http  # noqa: E402

CACHE = Path(os.environ.get("ASSISTANT_TEST_CACHE") or Path.home() / ".cache" / "assistant-tests")


def model_path() -> Path:
    """The default local GGUF, assembled once in the cache folder (size and sha256 checked)."""
    from assistant.local import DEFAULT, assemble

    return assemble(DEFAULT, CACHE / "models")


def serve(port: int, model: Path, threads: int, ctx: int) -> None:
    """Run llama.cpp's server in this process on 127.0.0.1:port until interrupted."""
    import xllamacpp

    from assistant.local import server_params

    p = server_params(model, threads=threads, context=ctx, port=port)
    server = xllamacpp.Server(p)
    print(f"OPENAI_BASE_URL={server.listening_address}/v1", file=sys.stderr, flush=True)  # noqa: T201
    while True:
        time.sleep(3600)


class LlamaServer:
    """The model server as a child process on 127.0.0.1; `url` is its OpenAI base URL."""

    def __init__(self, port: int | None = None, ctx: int = 4096, threads: int = 1) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.cmd = [sys.executable, __file__, "--port", str(self.port), "--ctx", str(ctx), "--threads", str(threads),
                    "--model", str(model_path())]
        self.log = CACHE / f"llama-server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait: float = 120.0) -> LlamaServer:
        """Start the server and wait until /health answers."""
        CACHE.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT)
        if wait_http(f"http://127.0.0.1:{self.port}/health", wait, self.proc):
            return self
        if self.proc.poll() is not None:
            raise RuntimeError(f"the model server exited with {self.proc.returncode}; see {self.log}")
        self.stop()
        raise RuntimeError(f"the model server did not become healthy in {wait:.0f} s; see {self.log}")

    def stop(self) -> None:
        """Stop the child process."""
        stop_process(self.proc)


def main() -> int:
    """Serve in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", type=Path, default=None, help="a GGUF file (default: the bundled Qwen2.5-Coder-1.5B-Instruct)")
    args = parser.parse_args()
    try:
        serve(args.port, args.model or model_path(), args.threads, args.ctx)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
