"""Ingest throughput against the embedding model's own, in one run, on the same chunks.

    python benchmarks/bench_ingest.py --docs 150        # about 1,000 chunks

Measures: raw model throughput (texts/s, tokens/s) on exactly the texts ingest embeds;
the whole pipeline (documents/s, chunks/s) into an embedded Chroma folder and into a
`chroma run` server; their ratio; peak memory. Writes benchmarks/results/ingest.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from assistant import Assistant, Settings  # noqa: E402
from assistant.embed import LocalEmbeddings  # noqa: E402
from benchmarks.common import ChromaServer, embedded_texts, peak_rss_mb, write  # noqa: E402
from benchmarks.corpus_gen import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=150)
    parser.add_argument("--no-server", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    folder = work / "articles"
    generate(folder, args.docs)
    settings = Settings(data_dir=work / "data", corpus_dir=folder)
    embedder = LocalEmbeddings()

    t = time.perf_counter()
    texts = embedded_texts(folder, settings)
    parse_s = time.perf_counter() - t
    tokens = sum(embedder.count_tokens(x) for x in texts)

    embedder.embed_documents(texts[:16])  # warm-up
    t = time.perf_counter()
    embedder.embed_documents(texts)
    raw_s = time.perf_counter() - t

    results: dict[str, object] = {
        "docs": args.docs,
        "chunks": len(texts),
        "model_tokens": tokens,
        "parse_and_chunk_s": round(parse_s, 2),
        "raw_embedding": {
            "seconds": round(raw_s, 2),
            "texts_per_s": round(len(texts) / raw_s, 1),
            "tokens_per_s": round(tokens / raw_s, 0),
        },
    }
    runs: list[tuple[str, dict[str, str]]] = [("folder", {})]
    server = None
    if not args.no_server:
        server = ChromaServer(work / "server").start()
        runs.append(("server", {"chroma_url": server.url}))
    for name, extra in runs:
        bot = Assistant(settings.with_(**extra), embedder=embedder)
        t = time.perf_counter()
        report = bot.ingest(show_progress=True)
        s = time.perf_counter() - t
        again = time.perf_counter()
        bot.ingest(show_progress=False)
        reingest_s = time.perf_counter() - again
        results[f"ingest_{name}"] = {
            "seconds": round(s, 2),
            "docs_per_s": round(report.added / s, 2),
            "chunks_per_s": round(report.chunks_total / s, 1),
            "ratio_to_raw_embedding": round((report.chunks_total / s) / (len(texts) / raw_s), 3),
            "reingest_unchanged_s": round(reingest_s, 2),
            "chunks_total": report.chunks_total,
        }
    if server:
        server.stop()
    results["peak_rss_mb"] = peak_rss_mb()
    write("ingest", results)
    print(results)


if __name__ == "__main__":
    main()
