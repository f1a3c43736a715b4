"""One store size end to end: ingest against the raw model, query latency, chat cold start and memory.

    python benchmarks/bench_scale.py --docs 150                              # about 1k chunks (~1 min)
    python benchmarks/bench_scale.py --docs 1500                             # about 10k chunks (~4 min)
    python benchmarks/bench_scale.py --docs 14800 --work /var/tmp/b100k      # about 100k chunks (~35 min)
    python benchmarks/bench_scale.py --docs 1500 --work W --ingest-only      # build the store only, then measure
    python benchmarks/bench_scale.py --docs 1500 --work W --keep-ingest benchmarks/results/scale-10k-ingest.json

Steps, in one run so the ratios hold on a noisy machine:
1. generate the corpus (benchmarks/corpus_gen.py: varied templated news articles, 350-900 words);
2. raw model throughput on a sample of the very texts ingest embeds, before and after the ingest;
3. `assistant ingest` as a child process (its wall time, chunks/s and peak RSS); with `--work`
   an interrupted run resumes where it stopped and reports only what it added;
4. latency p50/p95 of Chroma's own query, our dense, BM25, hybrid retrieval and the whole
   offline answer(), each on its own fresh questions, after 5 warm-up questions;
5. `assistant chat` cold start on the store (until the page answers, then the first /ask) and
   the chat process's memory after 20 questions.
With `--server` the store is a `chroma run` server the script starts. Writes
benchmarks/results/scale-<chunks>[-server].json (chunks rounded to 1k, 10k, 100k).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from assistant import Assistant, Settings  # noqa: E402
from assistant.embed import LocalEmbeddings  # noqa: E402
from benchmarks.common import ChromaServer, embedded_texts, questions, summary, timed, write  # noqa: E402
from benchmarks.corpus_gen import generate  # noqa: E402
from scripts.servers import free_port, stop_process, wait_http  # noqa: E402

ENV = {**os.environ, "ORT_DISABLE_TELEMETRY": "1", "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False"}


def raw_throughput(embedder: LocalEmbeddings, texts: list[str]) -> float:
    """Texts per second of the model alone."""
    embedder.embed_documents(texts[:16])
    t = time.perf_counter()
    embedder.embed_documents(texts)
    return len(texts) / (time.perf_counter() - t)


def rss_mb(pid: int) -> dict[str, float]:
    """Current and peak resident memory of a process (Linux /proc)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out["rss_mb" if key == "VmRSS" else "peak_rss_mb"] = round(int(value.split()[0]) / 1024, 1)
    return out


def chat_cold_start(data_dir: Path, work: Path) -> dict[str, object]:
    """Start `assistant chat` on the store; time until the page answers and until the first answer."""
    from gradio_client import Client

    port = free_port()
    env = {**ENV, "ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_CORPUS": str(work / "articles")}
    log = (work / "chat.log").open("w")
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "chat", "--no-browser", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        if not wait_http(url, 120, proc):
            raise RuntimeError(f"assistant chat did not start; see {work / 'chat.log'}")
        ready = time.perf_counter() - t
        client = Client(url, verbose=False)
        first = client.predict("How much will the tram line in Lisbon cost?", api_name="/ask")
        first_answer = time.perf_counter() - t
        ms = [timed(client.predict, q, api_name="/ask") for q in questions(20, seed=99)]
        return {"ready_s": round(ready, 2), "first_answer_s": round(first_answer, 2),
                "first_answer_backend": first["backend"], "ask_over_http": summary(ms), **rss_mb(proc.pid)}
    finally:
        stop_process(proc)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=150, help="articles to generate (about 6.8 chunks each)")
    parser.add_argument("--work", type=Path, help="keep the corpus and store here (an interrupted run resumes)")
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--server", action="store_true", help="store in a `chroma run` server instead of a folder")
    parser.add_argument("--keep-ingest", type=Path, metavar="RESULTS_JSON",
                        help="skip the ingest step (the store in --work is complete) and copy its figures from RESULTS_JSON")
    parser.add_argument("--ingest-only", action="store_true",
                        help="build the store and write its ingest figures only (measure later with --keep-ingest)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    folder = work / "articles"
    if len(list(folder.glob("*.md"))) != args.docs:
        generate(folder, args.docs)
    server = ChromaServer(work / "server").start() if args.server else None
    if server:
        ENV["ASSISTANT_CHROMA_URL"] = server.url
    settings = Settings(data_dir=work / "data", corpus_dir=folder, chroma_url=server.url if server else None)
    embedder = LocalEmbeddings()
    results: dict[str, object] = {"docs": args.docs, "store": "server" if server else "folder",
                                  "load_avg_start": os.getloadavg()}

    if args.keep_ingest:  # the store was built by an earlier run: keep that run's ingest figures
        results["ingest"] = json.loads(args.keep_ingest.read_text())["ingest"]
        results["ingest_from"] = str(args.keep_ingest.name)
        bot = Assistant(settings, embedder=embedder)
        chunks = bot.store.count_chunks()
    else:
        texts = embedded_texts(folder, settings, every=max(1, args.docs // 150))
        raw_before = raw_throughput(embedder, texts)
        t = time.perf_counter()
        ingest = subprocess.run([sys.executable, "-m", "assistant", "ingest", str(folder), "--json"],
                                env={**ENV, "ASSISTANT_DATA_DIR": str(settings.data_dir)},
                                stdout=subprocess.PIPE, stderr=(work / "ingest.log").open("w"), text=True, check=True)
        ingest_s = time.perf_counter() - t
        report = json.loads(ingest.stdout)
        raw_after = raw_throughput(embedder, texts)
        raw = (raw_before + raw_after) / 2
        bot = Assistant(settings, embedder=embedder)
        chunks = bot.store.count_chunks()
        added_chunks = sum(r.n_chunks for d, r in bot.store.records().items()) if report["added"] == args.docs else None
        results["ingest"] = {
            "seconds": round(ingest_s, 1),
            "docs_added": report["added"],
            "chunks_total": chunks,
            "raw_embedding_texts_per_s": round(raw, 1),
            "raw_before_after": [round(raw_before, 1), round(raw_after, 1)],
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        }
        if added_chunks:
            rate = added_chunks / ingest_s
            results["ingest"].update(  # type: ignore[attr-defined]
                {"docs_per_s": round(args.docs / ingest_s, 2), "chunks_per_s": round(rate, 1),
                 "ratio_to_raw_embedding": round(rate / raw, 3)}
            )

    size = 1000 * round(chunks / 1000) if chunks < 5000 else 10_000 * round(chunks / 10_000)
    label = f"{size // 1000}k" + ("-server" if server else "")
    if args.ingest_only:
        write(f"scale-{label}-ingest", {"chunks": chunks, **results, "load_avg_end": os.getloadavg()})
        if server:
            server.stop()
        return

    t = time.perf_counter()
    cold = Assistant(settings, embedder=embedder)
    cold.retriever.sync()
    results["open_store_and_bm25_s"] = round(time.perf_counter() - t, 2)
    n = args.questions
    sets = [questions(n, seed=s) for s in (21, 22, 23, 24)]
    for q in questions(5, seed=20):
        bot.answer(q)
    rows: dict[str, list[float]] = {"chroma_query": [], "dense": [], "bm25": [], "hybrid": [], "answer": []}
    for q in sets[0]:
        vector = embedder.embed_query(f"{q} ")
        rows["chroma_query"].append(timed(bot.store.chunks.query, query_embeddings=[vector], n_results=30))
    for q in sets[1]:
        rows["dense"].append(timed(bot.retriever.dense, q, 30))
        rows["bm25"].append(timed(bot.retriever.bm25, q, 30))
    for q in sets[2]:
        rows["hybrid"].append(timed(bot.retriever.search, q, 6))
    stages: dict[str, list[float]] = {"retrieve": [], "extractive": [], "verify_conflicts_provenance": []}
    results["load_avg_before_answers"] = os.getloadavg()
    for q in sets[3]:
        t = time.perf_counter()
        answer = bot.answer(q)
        rows["answer"].append((time.perf_counter() - t) * 1000)
        stages["retrieve"].append(answer.timings["retrieve_s"] * 1000)
        stages["extractive"].append(answer.timings["answer_s"] * 1000)
        stages["verify_conflicts_provenance"].append(rows["answer"][-1] - answer.timings["total_s"] * 1000)
    results["load_avg_after_answers"] = os.getloadavg()
    results["latency"] = {k: summary(v) for k, v in rows.items()}
    results["answer_stages"] = {k: summary(v) for k, v in stages.items()}
    results["latency_note"] = "dense, hybrid and answer include embedding the question; each on unseen questions"
    results["chat"] = chat_cold_start(settings.data_dir, work)
    results["load_avg_end"] = os.getloadavg()
    if server:
        server.stop()
    write(f"scale-{label}", {"chunks": chunks, **results})
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
