"""Concurrent chat sessions against the real web server, through gradio_client's `/ask` endpoint.

    python benchmarks/bench_load.py --sessions 20 --questions 5      # about 2 minutes on 2 cores

Starts `assistant chat --no-browser` as a child process over a temporary data directory and a
corpus of the seed article plus --docs generated articles (benchmarks/corpus_gen.py), waits for
its first-start ingest, then runs --sessions chat sessions at once, one thread and one
gradio_client.Client each. Every session asks --questions different questions about one article:
a first question, then follow-ups that only make sense with the conversation so far ("When was
it first proposed?"), each sent with the session's history. Records latency p50/p95/max as the
client sees it (queueing included), the server's own answer time, throughput, errors (must be 0)
and the server process's peak RSS.

Then, with --ingest-docs N (default 200), the same number of sessions asks again (about other
articles, so no cache helps) while `assistant ingest` of N more generated articles runs in another
process on the same data directory (the writer lock, the chat reopening its store on every commit):
errors must stay 0 and the question p95 within 2x the p95 without the ingest.
Writes benchmarks/results/load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import percentile, write  # noqa: E402
from benchmarks.corpus_gen import generate  # noqa: E402
from scripts.servers import free_port, stop_process, wait_http  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "putin-sends-trump-envoys-away.md"
SEED_QUESTIONS = [
    "Who did Trump send to Moscow?",
    "How long did their talks in the Kremlin last?",
    "What did they bring with them?",
    "What did the Kremlin say afterwards?",
    "How have Russia's assaults affected Ukraine's defenses?",
]
FOLLOW_UPS = [
    "When was it first proposed?",
    "How much will it cost?",
    "Who asked for an independent review of it?",
    "How long will its construction take?",
    "How many signatures did residents collect against it?",
    "Who rejected the claim that it favours the city?",
]
_TITLE = re.compile(r'^title: "(\w+) \w+ (.+) plan \((\d+)\)"$', re.M)


def session_questions(articles: list[Path], i: int, n: int) -> list[str]:
    """n different questions for session i: one naming an article's subject, then follow-ups."""
    if i % 5 == 4:
        return (SEED_QUESTIONS * n)[:n]
    m = _TITLE.search(articles[i % len(articles)].read_text(encoding="utf-8"))
    assert m, articles[i % len(articles)]
    place, thing = m.group(1), m.group(2)
    first = f"What did officials in {place} decide about the {thing}?"
    return [first, *(FOLLOW_UPS[(i + k) % len(FOLLOW_UPS)] for k in range(n - 1))]


def rss_peak_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--docs", type=int, default=40, help="generated articles next to the seed article")
    parser.add_argument("--ingest-docs", type=int, default=200, help="articles ingested during the second round (0: none)")
    parser.add_argument("--ingest-lead", type=float, default=8.0, help="seconds the ingest runs before questions start")
    args = parser.parse_args()
    from gradio_client import Client

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    folder = work / "articles"
    articles = generate(folder, args.docs)
    shutil.copy(SEED, folder / SEED.name)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    env |= {"ASSISTANT_DATA_DIR": str(work / "data"), "ASSISTANT_CORPUS": str(folder), "GRADIO_ANALYTICS_ENABLED": "False",
            "ANONYMIZED_TELEMETRY": "False", "ORT_DISABLE_TELEMETRY": "1"}
    log = (work / "server.log").open("w")
    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "assistant", "chat", "--no-browser", "--port", str(port)], env=env,
                              cwd=work, stdout=log, stderr=subprocess.STDOUT)
    try:
        if not wait_http(url, 900, server):
            raise SystemExit(f"the chat server did not start:\n{(work / 'server.log').read_text()[-3000:]}")
        ready_s = time.perf_counter() - t0
        ingest_line = next((x for x in (work / "server.log").read_text().splitlines() if x.startswith("Ingested:")), "")
        warm = Client(url, verbose=False)
        warm.predict(SEED_QUESTIONS[0], "", api_name="/ask")
        rss_before = rss_peak_mb(server.pid)
        phases: dict[str, dict[str, Any]] = {}
        phases["questions_only"] = run_sessions(url, articles, args, offset=0)
        rss_peak = rss_peak_mb(server.pid)
        if args.ingest_docs:
            more = work / "more"
            generate(more / "batch", args.ingest_docs, seed=29)  # ids batch/…: new documents, not the corpus's
            ingest_log = (work / "ingest.log").open("w")
            t_ingest = time.perf_counter()
            ingest = subprocess.Popen([sys.executable, "-m", "assistant", "ingest", str(more)], env=env, cwd=work,
                                      stdout=ingest_log, stderr=subprocess.STDOUT)
            time.sleep(args.ingest_lead)  # let it get past start-up and into embedding before questions start
            during = run_sessions(url, articles, args, offset=args.sessions)
            during["ingest_still_running_at_end"] = ingest.poll() is None
            ingest.wait()
            ingest_log.close()
            during["ingest_s"] = round(time.perf_counter() - t_ingest, 1)
            during["ingest_exit"] = ingest.returncode
            during["ingest_output"] = (work / "ingest.log").read_text()[-300:].strip()
            phases["during_ingest"] = during
            rss_peak = rss_peak_mb(server.pid)
    finally:
        stop_process(server)  # type: ignore[arg-type]
        log.close()
    result: dict[str, Any] = {
        "command": f"nice -n 10 python benchmarks/bench_load.py --sessions {args.sessions} --questions {args.questions} "
                   f"--docs {args.docs} --ingest-docs {args.ingest_docs}",
        "loadavg_at_start": load_at_start,
        "sessions": args.sessions,
        "questions_per_session": args.questions,
        "corpus_docs": args.docs + 1,
        "server_ready_s": round(ready_s, 1),
        "server_first_start": ingest_line,
        **phases,
        "server_peak_rss_mb": rss_peak,
        "server_rss_after_warmup_mb": rss_before,
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    errors = [e for ph in phases.values() for e in ph["error_samples"]]
    n_errors = sum(int(ph["errors"]) for ph in phases.values())
    if "during_ingest" in phases:
        base, busy = phases["questions_only"]["latency_ms"]["p95"], phases["during_ingest"]["latency_ms"]["p95"]
        result["p95_ratio_during_ingest"] = round(busy / base, 2)
    write("load", result)
    print(json.dumps({k: result.get(k) for k in ("p95_ratio_during_ingest", "server_peak_rss_mb")}  # noqa: T201
                     | {ph: {k: v[k] for k in ("errors", "latency_ms", "throughput_qps")} for ph, v in phases.items()}))
    shutil.rmtree(work, ignore_errors=True)
    if n_errors:
        raise SystemExit(f"{n_errors} errors, e.g. {errors[0]}")


def run_sessions(url: str, articles: list[Path], args: argparse.Namespace, offset: int) -> dict[str, Any]:
    """--sessions concurrent sessions of --questions questions each; latency, errors and throughput."""
    from gradio_client import Client

    latencies: list[float] = []
    server_answer: list[float] = []
    errors: list[str] = []
    counts = {"cited": 0, "refused": 0, "condensed": 0}
    lock = threading.Lock()
    barrier = threading.Barrier(args.sessions)

    def session(i: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # noqa: BLE001 - every failure is counted
            with lock:
                errors.append(f"session {i} connect: {type(exc).__name__}: {exc}")
            barrier.wait()
            return
        barrier.wait()
        history: list[list[str]] = []
        for q in session_questions(articles, i, args.questions):
            t = time.perf_counter()
            try:
                result: dict[str, Any] = client.predict(q, json.dumps(history), api_name="/ask")
            except Exception as exc:  # noqa: BLE001
                with lock:
                    errors.append(f"session {i} {q!r}: {type(exc).__name__}: {exc}")
                continue
            took = time.perf_counter() - t
            ok = bool(result.get("answer")) and (result["refused"] or bool(result["citations"]))
            with lock:
                latencies.append(took)
                server_answer.append(float(result["timings"]["total_s"]))
                counts["cited"] += bool(result["citations"])
                counts["refused"] += bool(result["refused"])
                counts["condensed"] += bool(history and result["standalone_question"])
                if not ok:
                    errors.append(f"session {i} {q!r}: answer without citations")
            history.append([q, result["answer"]])

    threads = [threading.Thread(target=session, args=(offset + i,)) for i in range(args.sessions)]
    t1 = time.perf_counter()
    load = [round(x, 2) for x in os.getloadavg()]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t1
    ms = [x * 1000 for x in latencies]
    return {
        "loadavg_at_start": load,
        "questions_asked": args.sessions * args.questions,
        "answered": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:5],
        "answers_with_citations": counts["cited"],
        "refusals": counts["refused"],
        "follow_ups_rewritten_with_history": f"{counts['condensed']}/{args.sessions * (args.questions - 1)}",
        "latency_ms": {"p50": round(percentile(ms, 50), 1), "p95": round(percentile(ms, 95), 1), "max": round(max(ms), 1)}
        if ms else {},
        "server_answer_ms": {"p50": round(percentile(server_answer, 50) * 1000, 1),
                             "p95": round(percentile(server_answer, 95) * 1000, 1)} if server_answer else {},
        "wall_s": round(wall, 1),
        "throughput_qps": round(len(latencies) / wall, 2),
    }


if __name__ == "__main__":
    main()
