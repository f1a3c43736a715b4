"""Secrets never show: the API key and the login password are scanned for in everything a user or an
operator can see: CLI output and DEBUG logs, error messages, the web page, its config and API results.

The model server is a scripted OpenAI-compatible server that fails in ways that tempt a leak: error
bodies that echo the key (500, 401, 400 with the Authorization header, 429) and timeouts.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from scripted_llm import Reply, ScriptedLLM

from scripts.servers import free_port, stop_process, wait_http
from tests.conftest import CORPUS

KEY = "qz-DistinctiveFakeKey-81XwT0aa"  # not sk- shaped: only redacting the configured key itself hides it
PASSWORD = "distinctive-Pa55word-Hq7"
NEEDLES = (KEY, "DistinctiveFakeKey", "81XwT0", PASSWORD, "Pa55word")
Q = "Who did Trump send to Moscow?"

FAULTS: dict[str, Callable[[dict[str, Any]], Reply]] = {
    "500": lambda body: Reply(status=500, body={"error": {"message": f"internal error while serving key {KEY}"}}),
    "401": lambda body: Reply(status=401, body={"error": {"message": f"Incorrect API key provided: {KEY}"}}),
    "400": lambda body: Reply(status=400, body={"error": {"message": f"bad header Authorization: Bearer {KEY}"}}),
    "429": lambda body: Reply(status=429, headers={"Retry-After": "0"},
                              body={"error": {"message": f"rate limit reached for organization of key {KEY}"}}),
    "timeout": lambda body: Reply("late", delay=2.5),
}


def assert_clean(text: str, where: str) -> None:
    leaked = [n for n in NEEDLES if n in text]
    assert not leaked, f"{where} shows {leaked}: …{text[max(0, text.find(leaked[0]) - 200):][:400]}…"


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM()
    yield server
    server.close()


def secret_env(llm: ScriptedLLM, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    return env | {
        "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": llm.url, "ASSISTANT_AUTH": f"ana:{PASSWORD}",
        "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_CORPUS": str(CORPUS), "ASSISTANT_TIMEOUT": "1",
        "ASSISTANT_MAX_RETRIES": "1", "OPENAI_LOG": "debug",
    }


def cli(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant", *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_cli_output_and_debug_logs_never_show_secrets(llm: ScriptedLLM, tmp_path: Path) -> None:
    env = secret_env(llm, tmp_path / "data")
    run = cli(env, "-vv", "ingest", str(CORPUS), "--json", cwd=tmp_path)
    assert run.returncode == 0 and json.loads(run.stdout)["added"] == 1, run.stderr
    assert "DEBUG" in run.stderr, "the scan must run over DEBUG logs"
    assert_clean(run.stdout + run.stderr, "ingest -vv")
    for fault, respond in FAULTS.items():
        llm.responder = respond
        seen = len(llm.seen)
        runs = [["-vv", "ask", "--json", Q]] + ([["-vv", "ask", "--stream", Q]] if fault in ("400", "timeout") else [])
        for args in runs:
            run = cli(env, *args, cwd=tmp_path)
            assert run.returncode == 0, run.stderr[-3000:]
            assert "Witkoff" in run.stdout and "offline answer" in run.stdout, run.stdout
            assert_clean(run.stdout + run.stderr, f"{' '.join(args[:3])} against a {fault}")
        assert len(llm.seen) > seen, "the model server was not called"
        assert llm.seen[-1].headers["authorization"] == f"Bearer {KEY}"
    for args in (["--help"], ["ask", "--help"], ["chat", "--help"]):
        run = cli(env, *args, cwd=tmp_path)
        assert run.returncode == 0
        assert_clean(run.stdout + run.stderr, " ".join(args))
    bad_settings = [
        ({"ASSISTANT_TIMEOUT": "soon"}, ["ask", Q], "ASSISTANT_TIMEOUT"),
        ({"ASSISTANT_LLM": "gpt"}, ["ask", Q], "ASSISTANT_LLM"),
        ({"ASSISTANT_AUTH": f"ana:{PASSWORD},bob"}, ["chat", "--no-browser", "--port", str(free_port())], "ASSISTANT_AUTH"),
        ({"ASSISTANT_AUTH": f"{PASSWORD}"}, ["chat", "--no-browser", "--port", str(free_port())], "ASSISTANT_AUTH"),
    ]
    for extra, args, named in bad_settings:
        run = cli(env | extra, "-vv", *args, cwd=tmp_path)
        assert run.returncode == 2 and named in run.stderr and "Traceback" not in run.stderr, run.stderr[-3000:]
        assert_clean(run.stdout + run.stderr, f"{extra} error")


def test_settings_and_in_process_logs_never_show_secrets(
    make_assistant, llm: ScriptedLLM, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    from assistant.settings import Settings

    settings = Settings.from_env({"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": llm.url, "ASSISTANT_AUTH": f"ana:{PASSWORD}"})
    assert settings.openai_api_key == KEY and settings.llm == "openai"
    assert_clean(repr(settings) + str(settings) + json.dumps(settings.describe()), "Settings repr/describe")
    caplog.set_level(logging.DEBUG)
    bot = make_assistant(llm="openai", openai_base_url=llm.url, openai_api_key=KEY, timeout=1.0, max_retries=1)
    bot.ensure_ingested()
    assert_clean(repr(bot.llm.chat) + repr(bot.settings), "the chat model's repr")
    for fault, respond in FAULTS.items():
        llm.responder = respond
        events = list(bot.stream(Q, [("Who went to Moscow?", "Witkoff [1].")]))
        answer = events[-1]
        assert answer.backend == "extractive" and any("offline answer" in n for n in answer.notes), (fault, answer.notes)
        assert_clean(json.dumps(answer.to_dict()) + repr(events), f"answer after a {fault}")
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    assert_clean(caplog.text, "DEBUG logs")


def test_web_page_config_and_api_never_show_secrets(llm: ScriptedLLM, tmp_path: Path) -> None:
    import gradio_client
    import httpx

    llm.responder = FAULTS["500"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "-vv", "chat", "--no-browser", "--port", str(port)],
                            env=secret_env(llm, tmp_path / "data"), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_http(f"{url}/", 180, proc), (tmp_path / "server.log").read_text()[-3000:]
        seen: list[str] = []
        with httpx.Client(base_url=url, timeout=60) as web:
            page = web.get("/")
            assert page.status_code == 200
            seen.append(page.text)
            assert web.get("/config").status_code in (401, 403), "login must cover the config"
            wrong = web.post("/login", data={"username": "ana", "password": PASSWORD[:-1] + "x"})
            assert wrong.status_code >= 400
            seen.append(wrong.text)
            ok = web.post("/login", data={"username": "ana", "password": PASSWORD})
            assert ok.status_code == 200, ok.text
            config = web.get("/config")
            assert config.status_code == 200 and "components" in config.json()
            seen += [web.get("/").text, config.text, web.get("/gradio_api/info").text]
        client = gradio_client.Client(f"{url}/", auth=("ana", PASSWORD), verbose=False)
        result = client.predict(Q, api_name="/ask")
        assert "Witkoff" in result["answer"] and any("model server answered HTTP 500" in n for n in result["notes"])
        seen.append(json.dumps(result))
        job = client.submit("How long did the talks last?", [], 6, [], api_name="/chat")
        job.result(timeout=120)
        chat = json.dumps(job.outputs()[-1], default=str)
        assert "offline answer" in chat
        seen.append(chat)
        llm.responder = FAULTS["401"]
        seen.append(json.dumps(client.predict(Q, api_name="/ask")))
        with pytest.raises(Exception) as err:
            client.predict("  ", api_name="/ask")
        seen.append(str(err.value))
        for i, text in enumerate(seen):
            assert_clean(text, f"web response {i}")
    finally:
        stop_process(proc)  # type: ignore[arg-type]
        log.seek(0)
        output = log.read()
        log.close()
    assert "DEBUG" in output and "login required" in output
    assert_clean(output, "the server's console output")
