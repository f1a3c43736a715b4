"""Choose chunk size and overlap by measurement, on development articles only.

    nice -n 10 python benchmarks/chunk_sweep.py                # 300 tune questions per setting (~30 min on 2 cores)
    python benchmarks/chunk_sweep.py --sample 100 --grid 96:16 # a quick look at one setting

Runs a fixed sample of the squad-dev13 `tune` articles' questions (evals/dev_split.json) through the
real pipeline for each (chunk_tokens, overlap) and records retrieval (gold paragraph Hit@1/5, MRR@10)
and answer quality. The golden set and the `report` articles are never used to choose: they measure.
Writes benchmarks/results/chunking.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from assistant import Settings  # noqa: E402
from assistant.embed import LocalEmbeddings  # noqa: E402
from assistant.evals import run_eval  # noqa: E402
from benchmarks.common import write  # noqa: E402
from evals import dev_subset  # noqa: E402

GRID = [(64, 12), (96, 16), (128, 24), (160, 32), (240, 48), (320, 64)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=300, help="tune questions per setting (fixed by --seed)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--grid", nargs="*", metavar="TOKENS:OVERLAP", help="settings to try (default: six, 64 to 320)")
    args = ap.parse_args()
    grid = [tuple(int(v) for v in g.split(":")) for g in args.grid] if args.grid else GRID
    embedder = LocalEmbeddings()
    rows = []
    with tempfile.TemporaryDirectory(prefix="chunk-sweep-") as tmp:
        dataset, corpus = dev_subset.build("tune", Path(tmp), sample=args.sample, seed=args.seed)
        for tokens, overlap in grid:
            settings = Settings(data_dir=Path(tmp) / "unused", chunk_tokens=tokens, chunk_overlap=overlap)
            report, _ = run_eval(dataset, corpus, settings, embedder=embedder, progress=False)
            s, x = report["summary"], report["extra"]
            row = {"chunk_tokens": tokens, "chunk_overlap": overlap, "tune": {
                "hit_at_1": s["hit_at_1"], "hit_at_5": s["hit_at_5"], "mrr_at_10": s["mrr_at_10"],
                "answer_accuracy": s["answer_accuracy"], "refusal_precision": s["refusal_precision"],
                "refusal_recall": s["refusal_recall"], "faithfulness": s["faithfulness"],
                "quote_has_answer": s.get("quote_has_answer", x.get("quote_has_answer")),
            }}
            print(row, flush=True)  # noqa: T201
            rows.append(row)
    write("chunking", {"set": f"squad-dev13 tune articles, {args.sample} questions (seed {args.seed})",
                       "command": "nice -n 10 python benchmarks/chunk_sweep.py", "grid": rows})


if __name__ == "__main__":
    main()
