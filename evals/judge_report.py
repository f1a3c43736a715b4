"""Validate the offline support judge on evals/judge_pairs.jsonl and write evals/results/judge.json.

Run from the repository root:  python -m evals.judge_report
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.judge import judge
from assistant.metrics import judge_validation

HERE = Path(__file__).resolve().parent
PAIRS = HERE / "judge_pairs.jsonl"
OUT = HERE / "results" / "judge.json"


def load_pairs(path: Path = PAIRS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def report(pairs: list[dict]) -> dict:
    """All pairs, plus the dev split (used to tune the judge) and the held-out split (never tuned on)."""
    result = judge_validation(pairs)
    result["splits"] = {}
    for split in sorted({p.get("split", "dev") for p in pairs}):
        part = judge_validation([p for p in pairs if p.get("split", "dev") == split])
        result["splits"][split] = {k: part[k] for k in ("n_pairs", "precision", "recall", "f1", "accuracy")}
    by_id = {p["id"]: p for p in pairs}
    for err in result["errors"]:
        pair = by_id[err["id"]]
        v = judge(pair["sentence"], pair["passage"])
        err.update(sentence=pair["sentence"], coverage=v.coverage, missing_terms=list(v.missing_terms),
                   missing_numbers=list(v.missing_numbers), missing_names=list(v.missing_names))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    result = report(load_pairs(args.pairs))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"pairs {result['n_pairs']} (supported {result['n_supported']}): precision {result['precision']}, "
          f"recall {result['recall']}, f1 {result['f1']}, accuracy {result['accuracy']}")
    for split, stats in result["splits"].items():
        print(f"  split {split:<8} n={stats['n_pairs']:<3} precision {stats['precision']}, recall {stats['recall']}, "
              f"accuracy {stats['accuracy']}")
    for kind, stats in result["by_kind"].items():
        print(f"  {kind:<14} n={stats['n']:<3} accuracy {stats['accuracy']}")
    for err in result["errors"]:
        print(f"  miss {err['id']} {err['kind']:<13} label={err['label']} coverage={err['coverage']} {err['sentence']}")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
