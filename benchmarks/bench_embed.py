"""Choose onnxruntime threads and batch size for the embedded model by measurement.

    python benchmarks/bench_embed.py            # about 2 minutes

Embeds the same ~300 chunk texts (title + chunk, as ingest does) with every combination of
intra-op threads and batch size, interleaved over 3 rounds so background load hits all
settings alike, and reports the median texts/s of each. The defaults in assistant/embed.py
(threads = min(4, cores), batch 8) come from this table. Writes benchmarks/results/embed.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from assistant.embed import LocalEmbeddings  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from benchmarks.common import embedded_texts, write  # noqa: E402
from benchmarks.corpus_gen import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-embed-"))
    generate(folder, 60)
    settings = Settings()
    texts = embedded_texts(folder, settings)[: args.texts]
    cores = os.cpu_count() or 1
    threads = sorted({1, cores, 2 * cores} if cores > 1 else {1, 2})
    grid = [(t, b) for t in threads for b in (1, 4, 8, 16, 32, 64)]
    models = {t: LocalEmbeddings(threads=t, small_threads=t) for t in threads}
    for model in models.values():
        model.embed_documents(texts[:16])
    rates: dict[tuple[int, int], list[float]] = {k: [] for k in grid}
    for _ in range(args.rounds):
        for t, b in grid:
            model = models[t]
            model.batch_size = b
            start = time.perf_counter()
            model.embed_documents(texts)
            rates[(t, b)].append(len(texts) / (time.perf_counter() - start))
    rows = [{"threads": t, "batch": b, "texts_per_s": round(statistics.median(rates[(t, b)]), 1)} for t, b in grid]
    best = max(rows, key=lambda r: r["texts_per_s"])
    tokens = sum(models[threads[0]].count_tokens(x) for x in texts)
    write("embed", {"texts": len(texts), "mean_tokens": round(tokens / len(texts), 1), "load_avg": os.getloadavg(),
                    "grid": rows, "best": best})
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
