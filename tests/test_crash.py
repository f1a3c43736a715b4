"""Crash safety: `assistant ingest` killed with SIGKILL at seeded points, and Ctrl-C, then re-run.

Real subprocesses, the real model and a real Chroma folder. The store is inspected afterwards by
a separate process that reads Chroma directly (not through our Store), and compared with what the
files themselves say the store must hold (their content hashes and chunk ids, computed here).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import random
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks.corpus_gen import generate
from tests.conftest import SEED

KILLS = 8
N_GENERATED = 16

INSPECT = """
import json, sys
import chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
names = {c.name if hasattr(c, "name") else str(c) for c in client.list_collections()}
out = {"records": {}, "chunks": []}
if "articles-docs" in names:
    got = client.get_collection("articles-docs").get(include=["metadatas"])
    out["record_ids"] = got["ids"]
    out["records"] = {m["doc_id"]: [m["content_hash"], m["n_chunks"]] for m in got["metadatas"]}
if "articles" in names:
    got = client.get_collection("articles").get(include=["metadatas"])
    out["chunks"] = [[i, m["doc_id"], m["doc_hash"]] for i, m in zip(got["ids"], got["metadatas"])]
print(json.dumps(out))
"""


def env_for(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    env["ASSISTANT_DATA_DIR"] = str(data)
    env["ASSISTANT_INGEST_BATCH_CHARS"] = "2500"  # commits about every article, so the bar counts in small steps
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_ingest(folder: Path, data: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "assistant", "ingest", str(folder), "--json"], cwd=data.parent,
                            env=env_for(data), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def inspect(data: Path) -> dict[str, Any]:
    """The store's doc records and chunks, read with chromadb in a fresh process."""
    run = subprocess.run([sys.executable, "-c", INSPECT, str(data / "chroma")], env=env_for(data),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def expected_state(folder: Path) -> dict[str, tuple[str, set[str]]]:
    """doc_id -> (content hash, chunk ids) that a complete ingest of the folder must leave."""
    from assistant.chunk import chunk_document
    from assistant.load import iter_files, load_file
    from assistant.settings import Settings
    from assistant.tokens import count_tokens

    s = Settings()
    out = {}
    for path, root in iter_files([folder]):
        doc = load_file(path, root)
        out[doc.doc_id] = (doc.content_hash, {c.chunk_id for c in chunk_document(doc, s.chunk_tokens, s.chunk_overlap,
                                                                                  count_tokens)})
    return out


def assert_complete(state: dict[str, Any], expected: dict[str, tuple[str, set[str]]]) -> None:
    """Every document once, with exactly its chunks, and nothing else."""
    assert len(state["record_ids"]) == len(set(state["record_ids"])) == len(expected)
    assert set(state["records"]) == set(expected)
    ids = [c[0] for c in state["chunks"]]
    assert len(ids) == len(set(ids)), "duplicate chunk ids"
    assert len(ids) == sum(n for _, n in state["records"].values()), "orphan or missing chunks"
    for doc_id, (content_hash, chunk_ids) in expected.items():
        recorded_hash, n_chunks = state["records"][doc_id]
        assert recorded_hash == content_hash, doc_id
        mine = [c for c in state["chunks"] if c[1] == doc_id]
        assert n_chunks == len(mine) == len(chunk_ids), doc_id
        assert all(c[2] == content_hash for c in mine), doc_id
        assert {c[0] for c in mine} == chunk_ids, doc_id


def make_corpus(folder: Path) -> None:
    generate(folder, N_GENERATED, seed=11)
    shutil.copy(SEED, folder / SEED.name)
    (folder / "notes.txt").write_text("Field notes\n\nThe ferry to Tartu left at dawn with 212 passengers aboard.\n",
                                      encoding="utf-8")


def edit(folder: Path, names: list[str]) -> None:
    """Change some articles, so a later run must replace their chunks (the update path)."""
    for name in names:
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8") + "\nA correction was added to this article on Friday.\n",
                        encoding="utf-8")


class Run:
    """One `assistant ingest` with stderr on a terminal (so it draws its progress bar), signalled at a point
    chosen by observed progress: as soon as the bar shows at least `at` of the files done, never by a timer."""

    def __init__(self, folder: Path, data: Path, *, ignore_sigint: bool = False) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # tqdm draws nothing at width 0
        # ignore_sigint: started the way a script's `cmd &` starts it (SIGINT ignored); Ctrl-C must still work
        preexec = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
        self.proc = subprocess.Popen([sys.executable, "-m", "assistant", "ingest", str(folder), "--json"], cwd=data.parent,
                                     env=env_for(data), stdout=subprocess.PIPE, stderr=slave, preexec_fn=preexec)
        os.close(slave)
        self.master = master
        self.order = sorted(p.name for p in folder.iterdir())  # ingest's order (load.iter_files sorts)
        self.total = len(self.order)
        self.seen = b""

    def done(self) -> int:
        counts = [int(n) for n in re.findall(rb"\| *(\d+)/%d \[" % self.total, self.seen)]
        return max(counts, default=0)

    def reached(self) -> int:
        """How far the embedding loop got: the position (1-based, sorted order) of the last file the bar named."""
        names = re.findall(rb", ([^,\]\r\n]+)\]", self.seen)
        return max((self.order.index(n.decode()) + 1 for n in names if n.decode() in self.order), default=0)

    def signal_at(self, at: int, sig: int, deadline_s: float = 180, *, by_name: bool = False) -> float | None:
        """Send `sig` once the bar shows >= `at` files committed (or, by_name, once it names the at-th file);
        returns when it was sent (None: the run finished first)."""
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    return None
                if not chunk:
                    return None
                self.seen += chunk
                if (self.reached() if by_name else self.done()) >= at and self.done() < self.total:
                    self.proc.send_signal(sig)
                    return time.monotonic()
            elif self.proc.poll() is not None:
                return None
        raise AssertionError(f"ingest showed no progress to {at}/{self.total} in {deadline_s} s")

    def finish(self) -> tuple[int, str, float]:
        """Wait for exit; returns (exit code, terminal output, when output last arrived)."""
        last = time.monotonic()
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                self.seen += chunk
                last = time.monotonic()
            elif self.proc.poll() is not None:
                break
        self.proc.communicate(timeout=60)
        os.close(self.master)
        return int(self.proc.returncode or 0), self.seen.decode("utf-8", "replace"), last


def test_sigkill_at_many_points_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    make_corpus(folder)
    expected = expected_state(folder)
    assert len(expected) == N_GENERATED + 2

    data = tmp_path / "data"
    rng = random.Random(7)
    killed_mid_run = 0
    partial_seen = False
    for i in range(KILLS):
        if i == KILLS // 2:
            state = inspect(data)
            partial_seen = partial_seen or 0 < len(state["records"]) < len(expected)
            # change a third of the articles: later kills also hit the replace-a-document path
            edit(folder, sorted(p.name for p in folder.glob("article-*.md"))[::3])
        # files already current are counted at once; kill within the first half of the work left, by progress
        want = expected_state(folder)
        records = inspect(data)["records"] if data.exists() else {}
        current = sum(1 for d, (h, _) in want.items() if records.get(d, [None])[0] == h)
        if current >= len(want) - 1:
            continue  # nothing (or one document) left to interrupt
        at = rng.randint(current + 1, current + max(1, (len(want) - current) // 2))
        run = Run(folder, data)
        landed = run.signal_at(at, signal.SIGKILL, by_name=i % 2 == 1)  # after a commit, or mid-group
        if landed is not None:
            killed_mid_run += 1
        run.finish()
    assert killed_mid_run >= 6, f"only {killed_mid_run} kills landed while ingest was running"

    before = inspect(data)
    expected = expected_state(folder)
    partial_seen = partial_seen or 0 < len(before["records"]) < len(expected)
    assert partial_seen, "no kill left a partly ingested store"
    added = [d for d in expected if d not in before["records"]]
    updated = [d for d in expected if d in before["records"] and before["records"][d][0] != expected[d][0]]

    final = start_ingest(folder, data)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    report = json.loads(out)
    assert (report["added"], report["updated"], report["removed"], report["skipped"]) == (len(added), len(updated), 0, [])
    assert report["unchanged"] == len(expected) - len(added) - len(updated)

    after = inspect(data)
    assert_complete(after, expected)
    assert report["chunks_total"] == len(after["chunks"])

    again = start_ingest(folder, data)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert json.loads(out)["unchanged"] == len(expected)

    question = "How many passengers were aboard the ferry to Tartu?"
    ask = subprocess.run([sys.executable, "-m", "assistant", "ask", "--json", question], cwd=tmp_path, env=env_for(data),
                         capture_output=True, text=True, timeout=300)
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert not answer["refused"] and "212" in answer["answer"]
    notes = (folder / "notes.txt").read_text(encoding="utf-8")
    assert answer["citations"] and all(c["quote"] in notes for c in answer["citations"] if c["doc_id"] == "notes.txt")
    assert any(c["doc_id"] == "notes.txt" and "212" in c["quote"] for c in answer["citations"])


@pytest.mark.parametrize("ignored", [False, True], ids=["terminal", "started-with-sigint-ignored"])
def test_ctrl_c_stops_ingest_with_one_clear_line(tmp_path: Path, ignored: bool) -> None:
    """SIGINT at an observed progress point: exit 130 within 2 s, one line, only whole documents committed."""
    folder = tmp_path / "articles"
    make_corpus(folder)
    expected = expected_state(folder)
    for attempt in range(3):  # the bar may jump past the last count we can signal at; try again on a fresh store
        data = tmp_path / f"data{attempt}"
        run = Run(folder, data, ignore_sigint=ignored)
        sent = run.signal_at(random.Random(attempt).randint(1, len(expected) // 2), signal.SIGINT)
        code, err, last_output_at = run.finish()
        if sent is not None:
            break
    assert sent is not None, "ingest always finished before it could be interrupted"
    assert code == 130, (code, err[-2000:])
    assert last_output_at - sent < 2.0, f"the Interrupted line came {last_output_at - sent:.1f} s after Ctrl-C"
    assert "Traceback" not in err, err[-3000:]
    lines = [x.strip() for x in re.split(r"[\r\n]+", err) if x.strip()]
    assert lines[-1].startswith("Interrupted: ") and lines[-1].endswith(
        "documents committed; run the same command again to continue."), lines[-3:]
    committed = int(lines[-1].split()[1])
    assert 0 <= committed < len(expected)
    state = inspect(data)
    assert committed == len(state["records"])
    ids = [c[0] for c in state["chunks"]]
    assert len(ids) == len(set(ids))
    for doc_id, (content_hash, _) in state["records"].items():  # whole documents only
        assert content_hash == expected[doc_id][0]
        assert {c[0] for c in state["chunks"] if c[1] == doc_id and c[2] == content_hash} == expected[doc_id][1]

    final = start_ingest(folder, data)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    report = json.loads(out)
    assert report["added"] == len(expected) - committed and report["unchanged"] == committed
    assert_complete(inspect(data), expected)
