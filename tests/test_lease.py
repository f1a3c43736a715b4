"""The writer lease on a `chroma run` server: real processes contend, at most one holds it, a killed holder is outlived.

Each contender is a real process with its own Store over the fixture's server. Inside the lease it
appends "enter" and later "exit" to a shared file (O_APPEND, one write per line), so the file is the
order in which holders came and went: two overlapping holders show up as two enters in a row.

`LEASE_TEST_DISABLE=1` turns the lease into a no-op in the contenders, to show what the check catches.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT

CONTENDER = """
import os, sys, time
from assistant import writer_lock
writer_lock.LEASE_TTL_S = float(sys.argv[3])
if os.environ.get("LEASE_TEST_DISABLE") == "1":
    from contextlib import contextmanager

    @contextmanager
    def _no_lease(self, what="ingest", *, wait=True, on_wait=None):
        yield

    writer_lock.Lease.hold = _no_lease
from assistant.embed import LOCAL_MODEL_NAME
from assistant.settings import Settings
from assistant.store import Store

log, rounds = sys.argv[1], int(sys.argv[2])
store = Store(Settings.from_env())
store.open(LOCAL_MODEL_NAME)

def note(word):
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, f"{word} {os.getpid()} {time.time():.4f}\\n".encode())
    os.close(fd)

print("ready", flush=True)
sys.stdin.readline()  # all contenders start together
for r in range(rounds):
    with store.writer("ingest"):
        note("enter")
        print("holding", flush=True)
        time.sleep(0.15)
        note("exit")
    time.sleep(0.05)
"""

VICTIM = CONTENDER.replace("for r in range(rounds):", "while True:  # holds until SIGKILLed")
VICTIM = VICTIM.replace("        time.sleep(0.15)\n", "        time.sleep(10**6)\n")


def env_for(chroma_url: str, collection: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    env |= {"ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_CHROMA_URL": chroma_url,
            "ASSISTANT_COLLECTION": collection, "PYTHONUNBUFFERED": "1"}
    return env


def start(script: str, log: Path, rounds: int, ttl: float, env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", script, str(log), str(rounds), str(ttl)], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", (line, proc.stderr.read() if proc.stderr else "")
    return proc


def go(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()


def intervals(log: Path) -> list[tuple[str, int, float]]:
    """The log's lines as (word, pid, time); asserts that no two holders were ever inside at once."""
    events = [(w, int(p), float(t)) for w, p, t in (line.split() for line in log.read_text().splitlines())]
    inside: int | None = None
    for n, (word, pid, _) in enumerate(events):
        if word == "enter":
            assert inside is None, f"pid {pid} entered while pid {inside} held the lease (line {n + 1} of {log})"
            inside = pid
        else:  # exit, or killed
            assert inside == pid, f"line {n + 1}: {word} {pid} while {inside} held the lease"
            inside = None
    assert inside is None
    return events


def finish(procs: list[subprocess.Popen[str]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise AssertionError("a contender never got the lease") from None
        assert proc.returncode == 0, err[-3000:]


def tickets_left(chroma_url: str, collection: str, data_dir: Path) -> dict[str, dict[str, str]]:
    from assistant.settings import Settings
    from assistant.store import Store, _TicketBook

    settings = Settings(data_dir=data_dir, chroma_url=chroma_url, collection=collection)
    return _TicketBook(Store(settings)).tickets()


def test_contenders_on_one_server_hold_the_lease_one_at_a_time(chroma_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    collection = f"lease{abs(hash(tmp_path)) % 10**8}"
    env = env_for(chroma_server.url, collection, tmp_path / "data")
    log = tmp_path / "holders.log"
    procs = [start(CONTENDER, log, 4, 20.0, env) for _ in range(4)]
    go(procs)
    finish(procs, 600)
    events = intervals(log)
    assert sorted(pid for w, pid, _ in events if w == "enter") == sorted(p.pid for p in procs for _ in range(4))
    assert tickets_left(chroma_server.url, collection, tmp_path / "data") == {}


def test_a_holder_killed_with_sigkill_is_outlived(chroma_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    collection = f"lease{abs(hash(tmp_path)) % 10**8}"
    env = env_for(chroma_server.url, collection, tmp_path / "data")
    log = tmp_path / "holders.log"
    ttl = 3.0
    victim = start(VICTIM, log, 1, ttl, env)
    go([victim])
    assert victim.stdout is not None and victim.stdout.readline().strip() == "holding"
    procs = [start(CONTENDER, log, 2, ttl, env) for _ in range(3)]
    go(procs)
    time.sleep(1.0)  # the contenders are queued behind the victim (not a precondition: the log proves the order)
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate()
    with log.open("a") as f:  # the victim's interval ends when it is dead
        f.write(f"killed {victim.pid} {time.time():.4f}\n")
    killed_at = time.time()
    finish(procs, 600)
    events = intervals(log)
    assert events[0][:2] == ("enter", victim.pid) and events[1][:2] == ("killed", victim.pid), events[:2]
    assert sorted(pid for w, pid, _ in events[2:] if w == "enter") == sorted(p.pid for p in procs for _ in range(2))
    first_after = events[2][2]
    assert first_after - killed_at < 120, "the killed holder's ticket was not taken over"
    assert tickets_left(chroma_server.url, collection, tmp_path / "data") == {}  # its expired ticket was removed


def test_standing_orders_tickets_like_the_bakery() -> None:
    from assistant.writer_lock import standing

    def t(number: int, expires: float = 100.0) -> dict[str, str]:
        return {"number": str(number), "expires": str(expires), "pid": "1", "host": "h", "what": "ingest"}

    assert standing({"b": t(1)}, "b", 50.0) == ([], None)
    assert standing({"a": t(0), "b": t(1)}, "b", 50.0) == ([], "a")  # a is still choosing: it may pick 1 too
    assert standing({"a": t(2), "b": t(1)}, "b", 50.0) == ([], None)
    assert standing({"a": t(1), "b": t(1)}, "b", 50.0) == ([], "a")  # a tie goes to the lower id, for both
    assert standing({"a": t(1), "b": t(1)}, "a", 50.0) == ([], None)
    assert standing({"a": t(1), "c": t(2), "b": t(3)}, "b", 50.0) == ([], "a")
    assert standing({"a": t(1, expires=10.0), "z": t(0, expires=10.0), "b": t(3)}, "b", 50.0) == (["a", "z"], None)
