"""The offline judge on the labelled pairs, alone and as the verifier applies it (names and pronouns read first).

    python -m benchmarks.bench_aliases

The verifier (assistant/verify.py) judges a claim after `assistant.aliases.for_judging`: a claim's name is written
as the cited passage writes it when the answer's passages join the two forms, and a passage's "he"/"she" becomes the
person last named before it. Here the answer's passages are the pair's passage plus, for pairs cut from an article of
`corpus/` (the hand-written pairs), that article. Precision and recall ("supported" is positive) per pair set and
split, and the pairs whose verdict changes. Writes benchmarks/results/aliases.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.aliases import for_judging, name_phrases
from assistant.judge import judge
from assistant.metrics import judge_validation

ROOT = Path(__file__).resolve().parent.parent
SETS = {"v1": ROOT / "evals" / "judge_pairs.jsonl", "v2": ROOT / "evals" / "judge_pairs_v2.jsonl"}
OUT = ROOT / "benchmarks" / "results" / "aliases.json"


def _article(pair: dict[str, Any], corpus: dict[str, str]) -> list[str]:
    doc = pair.get("doc") or ("putin-sends-trump-envoys-away.md" if pair.get("source") == "hand" else "")
    return [corpus[doc]] if doc in corpus else []


def main() -> None:
    corpus = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.md")}
    out: dict[str, Any] = {}
    for name, path in SETS.items():
        pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for p in pairs:
            p.setdefault("label", p.get("supported"))
        phrases = {p["id"]: name_phrases([p["passage"], *_article(p, corpus)]) for p in pairs}

        def through_aliases(sentence: str, passage: str, _p: dict[str, Any] | None = None) -> bool:
            pid = next(q["id"] for q in pairs if q["sentence"] == sentence and q["passage"] == passage)
            return judge(*for_judging(sentence, passage, phrases[pid])).supported

        for split in sorted({str(p["split"]) for p in pairs}) + ["all"]:
            subset = [p for p in pairs if split in ("all", p["split"])]
            plain, aliased = judge_validation(subset), judge_validation(subset, through_aliases)
            out[f"{name}/{split}"] = {
                "n_pairs": len(subset),
                "judge": {k: plain[k] for k in ("precision", "recall", "accuracy")},
                "through_aliases": {k: aliased[k] for k in ("precision", "recall", "accuracy")},
                "changed": sorted({e["id"] for e in plain["errors"]} ^ {e["id"] for e in aliased["errors"]}),
            }
            print(name, split, out[f"{name}/{split}"])
    OUT.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
