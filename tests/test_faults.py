"""Faults mid-session: a real `chroma run` server stopped and restarted under a live Assistant and web app,
and the LLM path against a scripted server that keeps failing (bounded retries, then the offline answer)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripted_llm import Reply, ScriptedLLM

from assistant.llm import RETRY_AFTER_CAP
from assistant.store import StoreUnavailable
from scripts.servers import ChromaServer
from tests.conftest import CORPUS, SEED, free_port

Q = "Who did Trump send to Moscow?"


# -- Chroma server stopped and restarted ------------------------------------------------------------


def test_chroma_server_restart_mid_session(embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import gradio_client

    from assistant import Assistant, Settings, web

    server = ChromaServer(tmp_path / "chroma").start()
    app = None
    try:
        bot = Assistant(Settings(data_dir=tmp_path / "data", corpus_dir=CORPUS, chroma_url=server.url), embedder=embedder)
        assert bot.ingest().added == 1
        before = bot.answer(Q)
        assert "Witkoff" in before.text and before.citations
        app = web.create_app(bot)
        port = free_port()
        web.launch(app, "127.0.0.1", port)
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        assert client.predict(Q, api_name="/ask")["answer"] == before.text

        server.stop()
        t0 = time.monotonic()
        with pytest.raises(StoreUnavailable) as err:
            bot.answer(Q)
        assert time.monotonic() - t0 < 10, "an unreachable server must fail fast, not hang"
        message = str(err.value)
        assert message.startswith(f"Cannot reach the Chroma server at {server.url} (")
        assert f"chroma run --path DIR --host 127.0.0.1 --port {server.port}" in message
        assert "ASSISTANT_CHROMA_URL" in message
        article = tmp_path / "ferry.md"
        article.write_text("---\ntitle: Ferry\n---\n\nThe Tartu ferry carried 212 passengers on its first crossing.\n",
                           encoding="utf-8")
        with pytest.raises(StoreUnavailable, match="Cannot reach the Chroma server"):
            bot.ingest([article])

        # the web app shows the same message (not a stack trace), and the chat keeps the question for a retry
        with pytest.raises(Exception) as web_err:
            client.predict(Q, api_name="/ask")
        assert message in str(web_err.value) and "Traceback" not in str(web_err.value)
        job = client.submit(Q, [], 6, [], api_name="/chat")
        with pytest.raises(Exception) as chat_err:
            job.result(timeout=60)
        assert message in str(chat_err.value)
        chat, _, box = job.outputs()[-1]
        assert chat == [] and box == Q, "no half-finished turn is left in the chat"

        # restart on the same port: the same Assistant and the same web app recover without a rebuild
        server.start()
        after = bot.answer(Q)
        assert after.text == before.text and [c.quote for c in after.citations] == [c.quote for c in before.citations]
        assert client.predict(Q, api_name="/ask")["answer"] == before.text
        report = bot.ingest([article])
        assert report.added == 1
        assert "212" in bot.answer("How many passengers did the Tartu ferry carry?").text
        assert set(bot.store.records()) == {SEED.name, "ferry.md"}
    finally:
        if app is not None:
            app.close()
        server.stop()


# -- LLM server that keeps failing -------------------------------------------------------------------


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM()
    yield server
    server.close()


def llm_bot(make_assistant, llm: ScriptedLLM, **overrides: Any):  # type: ignore[no-untyped-def]
    values: dict[str, Any] = {"llm": "openai", "openai_base_url": llm.url, "model": "scripted", "timeout": 1.0,
                              "max_retries": 2}
    values.update(overrides)
    bot = make_assistant(**values)
    bot.ensure_ingested()
    return bot


def gaps(llm: ScriptedLLM) -> list[float]:
    return [b.at - a.at for a, b in zip(llm.seen, llm.seen[1:])]


def assert_offline_with_note(answer: Any, *phrases: str) -> None:
    from assistant.citations import verify

    assert answer.backend == "extractive" and not answer.refused
    assert "Witkoff" in answer.text and answer.citations and verify(answer) == []
    note = next((n for n in answer.notes if "showing the offline answer" in n), "")
    assert all(p in note for p in phrases), answer.notes


FAILING = {
    "500": (lambda body: Reply(status=500), "HTTP 500"),
    "timeout": (lambda body: Reply("late", delay=3.0), "timed out"),
    "malformed-json": (lambda body: Reply("Witkoff went to Moscow [1]. " * 4, garbage=0), "malformed"),
    "truncated": (lambda body: Reply("Witkoff went to Moscow [1]. " * 4, cut_after=2), "could not reach"),
    "no-finish": (lambda body: Reply("Witkoff went to Moscow [1]. " * 4, no_finish=True), "ended before it finished"),
}


@pytest.mark.parametrize("fault", sorted(FAILING))
def test_persistent_llm_fault_gives_offline_answer_with_note(make_assistant, llm: ScriptedLLM, fault: str) -> None:  # type: ignore[no-untyped-def]
    respond, phrase = FAILING[fault]
    llm.responder = respond
    bot = llm_bot(make_assistant, llm, max_retries=2, timeout=1.0)
    t0 = time.monotonic()
    answer = bot.answer(Q)
    elapsed = time.monotonic() - t0
    assert len(llm.seen) == 3, "one call and exactly max_retries retries"
    assert all(g >= 0.45 for g in gaps(llm)), gaps(llm)  # backoff between attempts
    assert elapsed < 3 * 1.0 + 0.5 + 1.0 + 5, elapsed  # three timeouts at most, two backoffs, slack
    assert_offline_with_note(answer, phrase, "The model server failed")


def test_persistent_429_honours_retry_after_then_offline(make_assistant, llm: ScriptedLLM) -> None:  # type: ignore[no-untyped-def]
    llm.responder = lambda body: Reply(status=429, headers={"Retry-After": "1.5"})
    bot = llm_bot(make_assistant, llm, max_retries=2)
    t0 = time.monotonic()
    answer = bot.answer(Q)
    assert len(llm.seen) == 3
    assert all(1.45 <= g < 4 for g in gaps(llm)), gaps(llm)
    assert time.monotonic() - t0 < 10
    assert_offline_with_note(answer, "rate limited (HTTP 429)")


def test_huge_retry_after_is_capped(make_assistant, llm: ScriptedLLM) -> None:  # type: ignore[no-untyped-def]
    llm.responder = lambda body: Reply(status=429, headers={"Retry-After": "3600"})
    bot = llm_bot(make_assistant, llm, max_retries=1)
    t0 = time.monotonic()
    answer = bot.answer(Q)
    elapsed = time.monotonic() - t0
    assert len(llm.seen) == 2
    assert RETRY_AFTER_CAP - 0.1 <= gaps(llm)[0] < RETRY_AFTER_CAP + 2, gaps(llm)
    assert elapsed < RETRY_AFTER_CAP + 10
    assert_offline_with_note(answer, "rate limited")


def test_offline_note_is_visible_in_the_cli(llm: ScriptedLLM, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    llm.responder = lambda body: Reply(status=503)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    env |= {"OPENAI_BASE_URL": llm.url, "ASSISTANT_DATA_DIR": str(tmp_path / "data"), "ASSISTANT_CORPUS": str(CORPUS),
            "ASSISTANT_MAX_RETRIES": "1", "ASSISTANT_TIMEOUT": "2"}
    run = subprocess.run([sys.executable, "-m", "assistant", "ask", Q], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Witkoff" in run.stdout
    assert "note: The model server failed (the model server answered HTTP 503" in run.stdout
    assert "showing the offline answer" in run.stdout and "Traceback" not in run.stderr
    assert len([s for s in llm.seen if s.path.endswith("/chat/completions")]) == 2
