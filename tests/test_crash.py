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
    env["ASSISTANT_INGEST_BATCH_CHARS"] = "6000"  # commits every 2-3 articles, so kills land between commits
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


def test_sigkill_at_many_points_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    make_corpus(folder)
    expected = expected_state(folder)
    assert len(expected) == N_GENERATED + 2

    # an uninterrupted run on its own store, and a run with nothing to do (start-up alone), to place the kills
    t0 = time.monotonic()
    probe = start_ingest(folder, tmp_path / "probe")
    out, err = probe.communicate(timeout=300)
    full = time.monotonic() - t0
    assert probe.returncode == 0, err
    assert json.loads(out)["added"] == len(expected)
    t0 = time.monotonic()
    start_ingest(folder, tmp_path / "probe").communicate(timeout=300)
    startup = min(time.monotonic() - t0, full)

    data = tmp_path / "data"
    rng = random.Random(7)
    # kill points spread over what is left of the work (stratified), in seeded random order
    fractions = [0.1 + 0.85 * (i + rng.random()) / KILLS for i in range(KILLS)]
    rng.shuffle(fractions)
    killed_mid_run = 0
    partial_seen = False
    for i, fraction in enumerate(fractions):
        if i == KILLS // 2:
            state = inspect(data)
            partial_seen = partial_seen or 0 < len(state["records"]) < len(expected)
            # change a third of the articles: later kills also hit the replace-a-document path
            edit(folder, sorted(p.name for p in folder.glob("article-*.md"))[::3])
        left = len(expected) - len(inspect(data)["records"]) if data.exists() else len(expected)
        work = (full - startup) * max(left, len(expected) // 3) / len(expected)
        for _ in range(3):  # a run that finishes first is tried again with an earlier kill
            proc = start_ingest(folder, data)
            try:
                proc.wait(timeout=startup * 0.8 + work * fraction)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                killed_mid_run += 1
                break
            finally:
                proc.communicate(timeout=60)
            fraction /= 2
    assert killed_mid_run >= 6, f"only {killed_mid_run} kills landed while ingest was running"

    before = inspect(data)
    expected = expected_state(folder)
    partial_seen = partial_seen or 0 < len(before["records"]) < len(expected)
    assert partial_seen or killed_mid_run == KILLS, "no kill left a partly ingested store"
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


def interrupt_after_first_commit(folder: Path, data: Path) -> tuple[int | None, str]:
    """Run ingest with stderr on a terminal (so it shows its progress bar) and send SIGINT as soon as the
    bar shows committed documents; returns (exit code, stderr), exit code None if it finished first."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # tqdm draws nothing at width 0
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ingest", str(folder), "--json"], cwd=data.parent,
                            env=env_for(data), stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    total = len(list(folder.iterdir()))
    seen = b""
    interrupted = False
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data_read = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data_read:
                break
            seen += data_read
            done = [int(n) for n in re.findall(rb"\| *(\d+)/%d \[" % total, seen)]
            if not interrupted and done and 0 < max(done) < total:
                proc.send_signal(signal.SIGINT)
                interrupted = True
        elif proc.poll() is not None:
            break
    proc.communicate(timeout=60)
    os.close(master)
    return (proc.returncode if interrupted else None), seen.decode("utf-8", "replace")


def test_ctrl_c_stops_ingest_with_one_clear_line(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    make_corpus(folder)
    expected = expected_state(folder)
    for attempt in range(3):  # a very fast run may finish between its first commit and the signal
        data = tmp_path / f"data{attempt}"
        code, err = interrupt_after_first_commit(folder, data)
        if code is not None:
            break
    assert code is not None, "ingest always finished before it could be interrupted"
    assert code == 130, (code, err[-2000:])
    assert "Traceback" not in err, err[-3000:]
    lines = [x.strip() for x in re.split(r"[\r\n]+", err) if x.strip()]
    assert lines[-1].startswith("Interrupted: ") and lines[-1].endswith(
        "documents committed; run the same command again to continue."), lines[-3:]
    committed = int(lines[-1].split()[1])
    assert 0 < committed < len(expected)
    state = inspect(data)
    assert committed == len(state["records"])

    final = start_ingest(folder, data)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    report = json.loads(out)
    assert report["added"] == len(expected) - committed and report["unchanged"] == committed
    assert_complete(inspect(data), expected)

