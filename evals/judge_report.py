"""Validate the offline support judge on labelled pairs and write evals/results/judge.json.

Run from the repository root:  python -m evals.judge_report

Two pair sets: evals/judge_pairs.jsonl (v1, 92 pairs, split dev|holdout, written with the first
judge) and evals/judge_pairs_v2.jsonl (v2, written independently of the judge's rules, split
tune|report). The judge may be tuned on v2 `tune` only; figures quoted as results come from `report`.
"Positive" means "the passage supports the sentence". Per kind: `n`, `accuracy` (share judged
right: rejected for an error kind, accepted for a true kind) and the precision/recall of the
subset made of that kind plus every supported pair of the same split.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from assistant.judge import Similarity, embedding_similarity, judge, supports
from assistant.metrics import judge_validation

HERE = Path(__file__).resolve().parent
PAIRS = HERE / "judge_pairs.jsonl"
PAIRS_V2 = HERE / "judge_pairs_v2.jsonl"
OUT = HERE / "results" / "judge.json"
ANSWER_SWAP = "answer_swap"
TIMED_PAIRS = 1000


def load_pairs(path: Path = PAIRS) -> list[dict]:
    """The pairs of a JSONL file; v2's "supported" field is read as "label"."""
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for p in pairs:
        p.setdefault("label", p.get("supported"))
    return pairs


def _figures(pairs: list[dict]) -> dict[str, Any]:
    part = judge_validation(pairs)
    return {k: part[k] for k in ("n_pairs", "n_supported", "precision", "recall", "f1", "accuracy")}


def by_kind(pairs: list[dict]) -> dict[str, dict[str, Any]]:
    """Per kind: n, accuracy, and precision/recall of that kind together with all supported pairs."""
    positives = [p for p in pairs if p["label"]]
    out: dict[str, dict[str, Any]] = {}
    for kind in sorted({str(p["kind"]) for p in pairs}):
        mine = [p for p in pairs if p["kind"] == kind]
        subset = mine if all(p["label"] for p in mine) else positives + [p for p in mine if not p["label"]]
        v = judge_validation(subset)
        right = sum(judge(p["sentence"], p["passage"]).supported == p["label"] for p in mine)
        out[kind] = {"n": len(mine), "accuracy": round(right / len(mine), 4),
                     "precision": v["precision"], "recall": v["recall"]}
    return out


def report(pairs: list[dict]) -> dict[str, Any]:
    """All pairs, each split, each kind per split, and the misjudged pairs with the judge's reasons."""
    result = judge_validation(pairs)
    result["splits"] = {}
    for split in sorted({p.get("split", "dev") for p in pairs}):
        part = [p for p in pairs if p.get("split", "dev") == split]
        result["splits"][split] = {**_figures(part), "by_kind": by_kind(part)}
        sources = sorted({str(p["source"]) for p in part if "source" in p})
        if len(sources) > 1:
            result["splits"][split]["by_source"] = {
                src: _figures([p for p in part if p.get("source") == src]) for src in sources}
        swaps = [p for p in part if p["kind"] == ANSWER_SWAP]
        if swaps:
            rejected = sum(not judge(p["sentence"], p["passage"]).supported for p in swaps)
            result["splits"][split]["answer_swap_rejected"] = round(rejected / len(swaps), 4)
    by_id = {p["id"]: p for p in pairs}
    for err in result["errors"]:
        pair = by_id[err["id"]]
        v = judge(pair["sentence"], pair["passage"])
        err.update(split=pair.get("split"), sentence=pair["sentence"], coverage=v.coverage, reasons=list(v.reasons))
    return result


def with_similarity(pairs: list[dict], similarity: Similarity) -> dict[str, Any]:
    """Precision/recall per split when a dense similarity may accept low-coverage paraphrases."""
    out: dict[str, Any] = {}
    for split in sorted({p.get("split", "dev") for p in pairs}):
        part = [p for p in pairs if p.get("split", "dev") == split]
        v = judge_validation(part, lambda a, b: supports(a, b, similarity))
        out[split] = {k: v[k] for k in ("n_pairs", "precision", "recall", "f1", "accuracy")}
    return out


def speed(pairs: list[dict], n: int = TIMED_PAIRS) -> dict[str, Any]:
    """Milliseconds per judge() call over n pairs (cycling through the set; the lexicon loaded first)."""
    judge("warm up", "the lexicon loads once")
    work = [pairs[i % len(pairs)] for i in range(n)]
    start = time.perf_counter()
    for p in work:
        judge(p["sentence"], p["passage"])
    elapsed = time.perf_counter() - start
    return {"pairs": n, "seconds": round(elapsed, 3), "ms_per_pair": round(1000 * elapsed / n, 2)}


def _print(name: str, result: dict[str, Any]) -> None:
    print(f"{name}: pairs {result['n_pairs']} (supported {result['n_supported']}): precision {result['precision']}, "
          f"recall {result['recall']}, accuracy {result['accuracy']}")
    for split, stats in result["splits"].items():
        extra = f", answer_swap rejected {stats['answer_swap_rejected']}" if "answer_swap_rejected" in stats else ""
        print(f"  split {split:<8} n={stats['n_pairs']:<4} precision {stats['precision']}, "
              f"recall {stats['recall']}, accuracy {stats['accuracy']}{extra}")
        for src, f in stats.get("by_source", {}).items():
            print(f"    source {src:<7} n={f['n_pairs']:<4} precision {f['precision']}, recall {f['recall']}, "
                  f"accuracy {f['accuracy']}")
        for kind, k in stats["by_kind"].items():
            print(f"    {kind:<14} n={k['n']:<4} accuracy {k['accuracy']:<7} precision {k['precision']}, "
                  f"recall {k['recall']}")


def main(argv: list[str] | None = None) -> int:
    """Write the report; print a summary (errors of the tuning splits only, so the report split stays unread)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--pairs-v2", type=Path, default=PAIRS_V2)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--show-errors", action="store_true", help="print misjudged pairs of v1 and v2 tune")
    parser.add_argument("--similarity", action="store_true",
                        help="also report v2 with the local MiniLM similarity rescuing low-coverage paraphrases")
    args = parser.parse_args(argv)
    out: dict[str, Any] = {"v1": report(load_pairs(args.pairs))}
    if args.pairs_v2.exists():
        out["v2"] = report(load_pairs(args.pairs_v2))
        out["speed"] = speed(load_pairs(args.pairs_v2))
    else:
        out["speed"] = speed(load_pairs(args.pairs))
    if args.similarity and args.pairs_v2.exists():
        from assistant.embed import LocalEmbeddings

        out["v2_with_similarity"] = with_similarity(load_pairs(args.pairs_v2), embedding_similarity(LocalEmbeddings()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name in ("v1", "v2"):
        if name in out:
            _print(name, out[name])
    for split, stats in out.get("v2_with_similarity", {}).items():
        print(f"v2 with MiniLM similarity, split {split}: precision {stats['precision']}, recall {stats['recall']}, "
              f"accuracy {stats['accuracy']}")
    print(f"speed: {out['speed']['ms_per_pair']} ms per judge() call over {out['speed']['pairs']} pairs")
    if args.show_errors:
        for name in ("v1", "v2"):
            for err in out.get(name, {}).get("errors", []):
                if err.get("split") != "report":
                    print(f"  miss {name} {err['id']} {err['kind']:<13} label={err['label']} {err['sentence']} "
                          f"{err['reasons']}")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
