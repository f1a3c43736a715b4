"""Near-duplicate detection at scale: MinHash + LSH over 100k articles (issue 14 item 5).

    python benchmarks/bench_neardup.py [--docs 100000]

Indexes `--docs` generated articles (benchmarks/corpus_gen.py, ~350-900 words, none alike), then times
`find` for new articles (unrelated ones and lightly edited copies) and `add`, and checks that every copy is
found and no unrelated article is. Also times saving and reopening the index. Writes
benchmarks/results/neardup.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import RESULTS, machine, percentile  # noqa: E402
from benchmarks.corpus_gen import article  # noqa: E402


def edited(text: str, rng: random.Random) -> str:
    """A syndicated copy: a dateline and a credit line added (resemblance stays >= 0.9 for these lengths)."""
    return "LONDON (Wire) — " + text + "\n\n(Reporting by wire staff; editing by the desk.)"


def main(argv: list[str] | None = None) -> int:
    """Build the index, time the queries, write the results."""
    from assistant.neardup import NearDupIndex, resemblance, shingle_hashes

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args(argv)
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        index = NearDupIndex(Path(tmp))
        texts: dict[str, str] = {}
        t0 = time.perf_counter()
        for i in range(args.docs):
            text = article(i, rng)[1]
            if i < args.queries:
                texts[f"d{i}"] = text
            index.add(f"d{i}", f"h{i}", text)
        index._texts = {k: v for k, v in index._texts.items() if k in texts}  # the run's own cache, not 100k texts
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        index.save()
        save_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        reopened = NearDupIndex(Path(tmp))
        n = len(reopened)
        open_s = time.perf_counter() - t2
        copy_ms, new_ms, sims = [], [], []
        found = false_hits = 0
        for i in range(args.queries):
            copy = edited(texts[f"d{i}"], rng)
            sims.append(resemblance(shingle_hashes(texts[f"d{i}"]), shingle_hashes(copy)))
            q0 = time.perf_counter()
            hit = reopened.find(f"c{i}", copy, texts.get)
            copy_ms.append((time.perf_counter() - q0) * 1000)
            found += hit == f"d{i}"
            other = article(args.docs + i, rng)[1]
            q1 = time.perf_counter()
            false_hits += reopened.find(f"n{i}", other, texts.get) is not None
            new_ms.append((time.perf_counter() - q1) * 1000)
    result = {
        "machine": machine(), "docs": args.docs, "indexed": n, "build_s": round(build_s, 1),
        "add_ms_mean": round(build_s / args.docs * 1000, 3), "save_s": round(save_s, 2), "open_s": round(open_s, 2),
        "find_copy_ms_p50": round(percentile(copy_ms, 50), 2), "find_copy_ms_p95": round(percentile(copy_ms, 95), 2),
        "find_new_ms_p50": round(percentile(new_ms, 50), 2), "find_new_ms_p95": round(percentile(new_ms, 95), 2),
        "copies_found": f"{found}/{args.queries}", "copy_resemblance_min": round(min(sims), 3), "unrelated_flagged": f"{false_hits}/{args.queries}",
    }
    print(json.dumps(result, indent=2))  # noqa: T201
    (RESULTS / "neardup.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
