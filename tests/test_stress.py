"""Many writers, one embedded Chroma folder: ingest, prune and web uploads at once while a reader asks.

Three writer processes share one data directory: an ingest worker and a prune worker (each a real
process looping over `Assistant.ingest`, the code path `assistant ingest` runs) over the same
folder, and the running `assistant chat` server taking uploads through its `/upload` API. A reader
asks questions through `/ask` the whole time. Afterwards a fresh process reads Chroma directly and
the store must equal what one clean ingest of the final folder and uploads gives: the same
documents with the same content hashes and exactly the same chunk ids, no document without its
chunks, no orphan chunks; and the reader saw no error.

`STRESS_DISABLE_LOCK=1` runs every process with the writer lock turned off (a no-op), to show
what the check catches without it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SEED, free_port

ROUNDS = 20
gradio_client = pytest.importorskip("gradio_client")

# Every process starts through this, so STRESS_DISABLE_LOCK can turn the lock off everywhere (demonstration only).
BOOT = """
import os, sys
if os.environ.get("STRESS_DISABLE_LOCK") == "1":
    from contextlib import contextmanager
    from assistant import writer_lock

    @contextmanager
    def _no_lock(self, what="ingest", *, wait=True, on_wait=None):
        yield

    writer_lock.FileLock.hold = _no_lock
    writer_lock.Lease.hold = _no_lock
"""

CHAT = BOOT + """
from assistant.cli import main
sys.exit(main(sys.argv[1:]))
"""

WORKER = BOOT + """
import random
from pathlib import Path
from assistant import Assistant, Settings

role, folder, rounds = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
bot = Assistant(Settings.from_env())
rng = random.Random(role)

def write(name, text):
    tmp = folder / f".tmp-{role}-{name}"  # dot files are not ingested; rename is atomic
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, folder / name)

def article(name, r):
    town = rng.choice(["Tartu", "Narva", "Pärnu", "Viljandi", "Rakvere"])
    return (f"---\\ntitle: {role} notice {name} round {r}\\n---\\n\\n"
            f"The {role} council of {town} approved plan {name} in round {r} with {rng.randint(10, 999)} votes. "
            f"Work on the {name} depot starts in spring, the {town} mayor said on day {r}. "
            + " ".join(f"Clause {k} of plan {name} sets a budget of {rng.randint(1, 90)} million for year {2030 + k}."
                       for k in range(rng.randint(3, 14))) + "\\n")

for r in range(rounds):
    if role == "ingest":
        write(f"ing-{r % 5}.md", article(f"ing-{r % 5}", r))
        report = bot.ingest([folder], show_progress=False)
    else:
        gone = folder / f"ing-{(r + 2) % 5}.md"  # overlapping: deletes what the ingest worker wrote
        if r % 3 == 0 and gone.exists():
            gone.unlink()
        write(f"pr-{r % 4}.md", article(f"pr-{r % 4}", r))
        report = bot.ingest([folder], prune=True, show_progress=False)
    print(role, r, report.added, report.updated, report.removed, len(report.skipped), flush=True)
if role == "prune":  # one last pass once the ingest worker is done: the folder is final now
    while not (folder.parent / "ingest.done").exists():
        __import__("time").sleep(0.1)
    report = bot.ingest([folder], prune=True, show_progress=False)
    print(role, "final", report.added, report.updated, report.removed, len(report.skipped), flush=True)
else:
    (folder.parent / "ingest.done").write_text("done")
"""


INSPECT = """
import json, sys
import chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
docs = client.get_collection("articles-docs").get(include=["metadatas"])
chunks = client.get_collection("articles").get(include=["metadatas"])
print(json.dumps({
    "records": {m["doc_id"]: [m["content_hash"], m["n_chunks"], json.loads(m.get("extra") or "{}").get("copy_of")]
                for m in docs["metadatas"]},
    "record_ids": docs["ids"],
    "chunks": [[i, m["doc_id"], m["doc_hash"]] for i, m in zip(chunks["ids"], chunks["metadatas"])],
}))
"""


def inspect(chroma: Path, env: dict[str, str]) -> dict[str, Any]:
    """Records and chunks of a Chroma folder, read by a fresh process with chromadb itself."""
    run = subprocess.run([sys.executable, "-c", INSPECT, str(chroma)], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def summary(state: dict[str, Any]) -> dict[str, tuple[str, str | None, frozenset[str]]]:
    """doc_id -> (content hash, copy_of, its committed chunk ids)."""
    mine: dict[str, set[str]] = {}
    for cid, doc_id, doc_hash in state["chunks"]:
        if state["records"].get(doc_id, [None])[0] == doc_hash:
            mine.setdefault(doc_id, set()).add(cid)
    return {d: (h, copy_of, frozenset(mine.get(d, ()))) for d, (h, _, copy_of) in state["records"].items()}


def test_three_writers_and_a_reader_leave_exactly_one_clean_ingest(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant import Assistant, Settings

    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / SEED.name).write_bytes(SEED.read_bytes())
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    env |= {"ASSISTANT_DATA_DIR": str(data), "ASSISTANT_CORPUS": str(folder), "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT)}
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = (tmp_path / "chat.log").open("w")
    chat = subprocess.Popen([sys.executable, "-c", CHAT, "chat", "--no-browser", "--port", str(port)], cwd=tmp_path,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    workers: list[subprocess.Popen[str]] = []
    errors: list[str] = []
    answered = [0]
    stop = threading.Event()
    try:
        from scripts.servers import wait_http

        assert wait_http(url, 300, chat), (tmp_path / "chat.log").read_text()[-3000:]
        t0 = time.monotonic()
        for role in ("ingest", "prune"):
            workers.append(subprocess.Popen([sys.executable, "-c", WORKER, role, str(folder), str(ROUNDS)], cwd=tmp_path,
                                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))

        def read() -> None:
            client = gradio_client.Client(url, verbose=False)
            questions = ["Who did Trump send to Moscow?", "Which council approved plan ing-1?",
                         "What budget does clause 2 of plan pr-0 set?", "When does work on the up-1 depot start?"]
            i = 0
            while not stop.is_set():
                q = questions[i % len(questions)]
                i += 1
                try:
                    got: dict[str, Any] = client.predict(q, "", api_name="/ask")
                    if not got.get("answer"):
                        errors.append(f"reader: empty answer to {q!r}")
                    answered[0] += 1
                except Exception as exc:  # noqa: BLE001 - every failure counts
                    errors.append(f"reader: {q!r}: {type(exc).__name__}: {exc}")

        reader = threading.Thread(target=read, daemon=True)
        reader.start()

        uploader = gradio_client.Client(url, verbose=False)
        for r in range(ROUNDS):
            name = ["up-0.md", "up-1.md", "ing-0.md"][r % 3]  # ing-0.md: named like an article of the folder
            path = tmp_path / "outbox" / name
            path.parent.mkdir(exist_ok=True)
            path.write_text(f"---\ntitle: upload {name} round {r}\n---\n\nWork on the {name[:-3]} depot starts in "
                            f"week {r + 1}, the harbour office of Vik told {100 + r} crews.\n", encoding="utf-8")
            status = uploader.predict(gradio_client.handle_file(str(path)), r % 2 == 0, api_name="/upload")[0]
            if ": added" not in status and ": replaced" not in status:
                errors.append(f"upload {name} round {r}: {status}")
        for w in workers:
            out, err = w.communicate(timeout=300)
            assert w.returncode == 0, err[-3000:]
        took = time.monotonic() - t0
        stop.set()
        reader.join(timeout=120)
    finally:
        stop.set()
        for w in workers:
            if w.poll() is None:
                w.kill()
        chat.terminate()
        try:
            chat.wait(20)
        except subprocess.TimeoutExpired:
            chat.kill()
        log.close()

    assert not errors, (errors[:5], (tmp_path / "chat.log").read_text()[-4000:])
    assert answered[0] >= 5, f"the reader got only {answered[0]} answers in {took:.0f} s"
    state = inspect(data / "chroma", env)

    # one clean ingest of the final folder and uploads, in a fresh data directory
    clean = tmp_path / "clean"
    shutil.copytree(data / "uploads", clean / "uploads")
    bot = Assistant(Settings(data_dir=clean, corpus_dir=folder), embedder=embedder)
    bot.ingest([folder], show_progress=False)
    bot.ingest([clean / "uploads"], show_progress=False)
    want = summary(inspect(clean / "chroma", env))

    got = summary(state)
    assert len(state["record_ids"]) == len(set(state["record_ids"]))
    empty = sorted(d for d, (_, copy_of, chunks) in got.items() if not chunks and not copy_of)
    assert not empty, f"documents without chunks: {empty}"
    assert set(got) == set(want), (sorted(set(got) - set(want)), sorted(set(want) - set(got)))
    for doc_id in want:
        assert got[doc_id] == want[doc_id], doc_id
    ids = [c[0] for c in state["chunks"]]
    assert len(ids) == len(set(ids)) == sum(len(c) for _, _, c in want.values()), "orphan or duplicate chunks"
    assert any(d.startswith("uploads/ing-0") for d in got) and any(d.startswith("uploads/up-") for d in got)
