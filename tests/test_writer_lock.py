"""One writer at a time across processes: a second `assistant ingest` waits or exits 3; a killed holder frees the store.

Real child processes, the real CLI, a real Chroma folder and a real `chroma run` server.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEED

HOLD = """
import sys
from assistant import writer_lock
writer_lock.LEASE_TTL_S = 3.0  # a killed holder's lease expires quickly in this test
from assistant.embed import LOCAL_MODEL_NAME
from assistant.settings import Settings
from assistant.store import Store
store = Store(Settings.from_env())
store.open(LOCAL_MODEL_NAME)
with store.writer("ingest"):
    print("holding", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


def child_env(backend: dict[str, object]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    env["ASSISTANT_DATA_DIR"] = str(backend["data_dir"])
    if "chroma_url" in backend:
        env["ASSISTANT_CHROMA_URL"] = str(backend["chroma_url"])
        env["ASSISTANT_COLLECTION"] = str(backend["collection"])
    env["PYTHONUNBUFFERED"] = "1"
    return env


def hold(env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding", proc.stderr.read() if proc.stderr else ""
    return proc


def ingest(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "assistant", "ingest", str(SEED), *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_second_writer_waits_or_exits_3_and_a_killed_holder_frees_the_store(backend: dict[str, object]) -> None:
    env = child_env(backend)
    holder = hold(env)
    try:
        refused = ingest(env, "--no-wait")
        out, err = refused.communicate(timeout=120)
        assert refused.returncode == 3, (out, err)
        assert err.strip().splitlines()[-1] == f"waiting for another ingest (pid {holder.pid}) to finish…", err

        waiting = ingest(env)
        assert waiting.stderr is not None
        line = waiting.stderr.readline()
        assert line.strip() == f"waiting for another ingest (pid {holder.pid}) to finish…", line
        time.sleep(1.0)
        assert waiting.poll() is None, "the second writer went ahead while the first held the lock"
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.wait(60) == 0
        out, err = waiting.communicate(timeout=300)
        assert waiting.returncode == 0, err
        assert re.match(r"added 1, updated 0, unchanged 0", out), out
    finally:
        holder.kill()
        holder.communicate()

    # a holder killed with SIGKILL never releases anything itself: the kernel (flock) or the lease's expiry does
    holder = hold(env)
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate()
    t0 = time.monotonic()
    after = ingest(env)
    out, err = after.communicate(timeout=300)
    assert after.returncode == 0, err
    assert "unchanged 1" in out, out
    if "chroma_url" not in backend:
        assert "waiting" not in err, err  # flock died with its process: no wait at all
    else:
        assert time.monotonic() - t0 < 60


def test_readers_never_wait_for_a_writer(backend: dict[str, object], make_assistant) -> None:  # type: ignore[no-untyped-def]
    bot = make_assistant(**{k: v for k, v in backend.items()})
    bot.ingest([SEED], show_progress=False)
    holder = hold(child_env(backend))
    try:
        t0 = time.monotonic()
        assert "Witkoff" in bot.answer("Who did Trump send to Moscow?").text
        assert time.monotonic() - t0 < 30
    finally:
        holder.kill()
        holder.communicate()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])
def test_chat_on_a_public_address_without_auth_refuses_to_start(host: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    env["ASSISTANT_DATA_DIR"] = str(tmp_path / "data")
    run = subprocess.run([sys.executable, "-m", "assistant", "chat", "--no-browser", "--host", host, "--port", "1"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run
    assert f"refusing to serve on {host} without a login" in run.stderr and "--allow-anonymous" in run.stderr
    assert "ASSISTANT_AUTH" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was built


def test_chat_with_allow_anonymous_serves(tmp_path: Path) -> None:
    from scripts.servers import free_port, stop_process, wait_http

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    env |= {"ASSISTANT_DATA_DIR": str(tmp_path / "data"), "ASSISTANT_CORPUS": str(SEED.parent)}
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "chat", "--no-browser", "--host", "0.0.0.0", "--port",
                             str(port), "--allow-anonymous"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        assert wait_http(f"http://127.0.0.1:{port}/", 300, proc), proc.communicate(timeout=5)[0]
        from gradio_client import Client

        with pytest.raises(Exception, match="empty"):
            Client(f"http://127.0.0.1:{port}/", verbose=False).predict("   ", api_name="/ask")
    finally:
        stop_process(proc)  # type: ignore[arg-type]
    output = proc.communicate(timeout=30)[0].decode("utf-8", "replace")
    assert "Traceback" not in output, output[-3000:]
    assert sum("the question is empty" in line for line in output.splitlines()) == 1, output[-3000:]
