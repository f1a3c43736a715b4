"""Retrieval and answer latency by store size, against Chroma's own query time, in one run.

    python benchmarks/bench_query.py --docs 150 1500     # about 1k and 10k chunks

For each size: ingest a generated corpus (benchmarks/corpus_gen.py), then time 60 questions
(after 5 warm-up questions) through Chroma's raw query, our dense, BM25 and hybrid
retrieval, and the whole offline answer(). Also the cold start of a new Assistant on the
existing store. Writes benchmarks/results/query.json.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from assistant import Assistant, Settings  # noqa: E402
from assistant.embed import LocalEmbeddings  # noqa: E402
from benchmarks.common import peak_rss_mb, percentile, write  # noqa: E402
from benchmarks.corpus_gen import PLACES, TOPICS, generate  # noqa: E402


def questions(n: int, seed: int = 3) -> list[str]:
    """Questions in the style of the generated articles."""
    rng = random.Random(seed)
    forms = [
        "How much will the {thing} in {place} cost?",
        "Who rejected the claim that the {thing} favours {place}?",
        "How many signatures did residents of {place} collect against the {thing}?",
        "When was the {thing} first proposed?",
        "How long will construction of the {thing} take?",
        "Who asked for an independent review of the {thing}?",
    ]
    out = []
    for _ in range(n):
        topic = rng.choice(sorted(TOPICS))
        out.append(rng.choice(forms).format(thing=rng.choice(TOPICS[topic]), place=rng.choice(PLACES)))
    return out


def timed(fn, *args, **kwargs) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - t) * 1000


def summary(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, nargs="+", default=[150])
    args = parser.parse_args()
    embedder = LocalEmbeddings()
    work = Path(tempfile.mkdtemp(prefix="bench-query-"))
    folder = work / "articles"
    results: dict[str, object] = {"sizes": []}
    made = 0
    for n_docs in sorted(args.docs):
        generate(folder, n_docs)
        made = max(made, n_docs)
        settings = Settings(data_dir=work / "data", corpus_dir=folder)
        bot = Assistant(settings, embedder=embedder)
        t = time.perf_counter()
        report = bot.ingest(show_progress=False)
        ingest_s = time.perf_counter() - t
        t = time.perf_counter()
        cold = Assistant(settings, embedder=embedder)
        cold.answer("How much will the tram line in Lisbon cost?")
        cold_s = time.perf_counter() - t
        qs = questions(65)
        for q in qs[:5]:
            bot.answer(q)
        rows: dict[str, list[float]] = {"chroma_query": [], "dense": [], "bm25": [], "hybrid": [], "answer": []}
        for q in qs[5:]:
            vector = embedder.embed_query(q)
            rows["chroma_query"].append(timed(bot.store.chunks.query, query_embeddings=[vector], n_results=30))
            rows["dense"].append(timed(bot.retriever.dense, q, 30))
            rows["bm25"].append(timed(bot.retriever.bm25, q, 30))
            rows["hybrid"].append(timed(bot.retriever.search, q, 6))
            rows["answer"].append(timed(bot.answer, q))
        size = {"docs": n_docs, "chunks": report.chunks_total, "ingest_s": round(ingest_s, 1),
                "cold_start_first_answer_s": round(cold_s, 2), **{k: summary(v) for k, v in rows.items()}}
        print(size)
        results["sizes"].append(size)  # type: ignore[attr-defined]
    results["peak_rss_mb"] = peak_rss_mb()
    write("query", results)


if __name__ == "__main__":
    main()
