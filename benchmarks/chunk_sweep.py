"""Choose chunk size and overlap by measurement: the eval suite at several chunk settings.

    python benchmarks/chunk_sweep.py

Runs the golden set (corpus/) and the multi-article fixture set through the real pipeline
for each (chunk_tokens, overlap) and records gold-passage retrieval (Hit@1, MRR@10) and
answer quality. Writes benchmarks/results/chunking.json.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from assistant import Settings  # noqa: E402
from assistant.embed import LocalEmbeddings  # noqa: E402
from assistant.evals import run_eval  # noqa: E402
from benchmarks.common import write  # noqa: E402

GRID = [(64, 12), (96, 16), (128, 24), (160, 32), (240, 48), (320, 64)]
SETS = {
    "golden": (ROOT / "evals" / "golden.jsonl", ROOT / "corpus"),
    "multi": (ROOT / "tests" / "fixtures" / "multi" / "dataset.jsonl", ROOT / "tests" / "fixtures" / "multi" / "articles"),
}


def main() -> None:
    embedder = LocalEmbeddings()
    rows = []
    for tokens, overlap in GRID:
        row: dict[str, object] = {"chunk_tokens": tokens, "chunk_overlap": overlap}
        for name, (dataset, corpus) in SETS.items():
            settings = Settings(data_dir=Path("/tmp/unused"), chunk_tokens=tokens, chunk_overlap=overlap)
            report, _ = run_eval(dataset, corpus, settings, embedder=embedder, progress=False)
            s, x = report["summary"], report["extra"]
            row[name] = {
                "passage_hit_at_1": x["passage_hit_at_1"], "passage_mrr_at_10": x["passage_mrr_at_10"],
                "hit_at_1": s["hit_at_1"], "answer_accuracy": s["answer_accuracy"], "answer_f1": s["answer_f1"],
                "refusal_precision": s["refusal_precision"], "refusal_recall": s["refusal_recall"],
                "faithfulness": s["faithfulness"],
            }
        print(row)
        rows.append(row)
    write("chunking", {"grid": rows})


if __name__ == "__main__":
    main()
