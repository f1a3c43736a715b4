"""Answer-time embedding: a question and the 10 sentences an answer ranks, at 1 and 2 onnxruntime threads.

    nice -n 10 python benchmarks/bench_query.py --rounds 60     # about 1 min

Each round embeds one question alone and 10 unseen sentences of the generated articles (the
embedding cache is bypassed) with every variant in turn, so load swings hit them alike; the
vectors of all variants are checked to be identical. Writes benchmarks/results/embed_small.json.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from assistant.chunk import split_sentences  # noqa: E402
from assistant.embed import LocalEmbeddings  # noqa: E402
from benchmarks.common import questions, write  # noqa: E402
from benchmarks.corpus_gen import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-query-"))
    generate(folder, 80)
    sentences = []
    for path in sorted(folder.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        sentences += [text[s:e] for s, e in split_sentences(text) if len(text[s:e].split()) >= 4]
    random.Random(2).shuffle(sentences)
    groups = [sentences[i * 10 : (i + 1) * 10] for i in range(args.rounds)]
    asked = questions(args.rounds, seed=5)
    variants = {f"{t} thread{'s' if t > 1 else ''}": LocalEmbeddings(threads=t, small_threads=t) for t in (1, 2)}
    for model in variants.values():
        model._embed_sorted(groups[0])
    ms: dict[str, dict[str, list[float]]] = {k: {"question": [], "10_sentences": []} for k in variants}
    vectors: dict[str, list[list[float]]] = {k: [] for k in variants}
    load_start = os.getloadavg()
    for question, group in zip(asked, groups):
        for name, model in variants.items():
            t = time.perf_counter()
            vectors[name] += model._embed_batch([question])
            ms[name]["question"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            vectors[name] += model._embed_sorted(group)  # what embed_documents does for texts it has not seen
            ms[name]["10_sentences"].append((time.perf_counter() - t) * 1000)
    first = next(iter(vectors.values()))
    same = all(v == first for v in vectors.values())
    out = {
        name: {part: {"median_ms": round(statistics.median(v), 1), "p90_ms": round(sorted(v)[int(0.9 * len(v))], 1)}
               for part, v in parts.items()}
        for name, parts in ms.items()
    }
    write("embed_small", {"rounds": args.rounds, "load_avg_start": load_start, "load_avg_end": os.getloadavg(),
                          "vectors_identical": same, "variants": out})
    print(out, "identical vectors:", same)


if __name__ == "__main__":
    main()
