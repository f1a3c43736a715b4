"""Precision and recall of the offline follow-up detector on evals/followup_pairs.jsonl.

Each line: {"previous": str, "question": str, "followup": bool} ("positive" = a follow-up that needs
the previous turn). The detector (`assistant.condense.needs_context`) was written from rules before
these pairs existed and never tuned on them, so the figures cover all pairs. `before` is the
detector it replaced (any pronoun, or fewer than 2 content terms), kept here for comparison.

Run from the repository root:  python -m evals.followup_report   (writes evals/results/followup.json)
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path

from assistant.condense import needs_context
from assistant.lexical import content_terms, fold, words

HERE = Path(__file__).resolve().parent
PAIRS = HERE / "followup_pairs.jsonl"
OUT = HERE / "results" / "followup.json"
_OLD_ANAPHORA = {
    "they", "their", "them", "theirs", "he", "him", "his", "she", "her", "hers", "it", "its", "this",
    "that", "these", "those", "there", "then", "the latter", "the former", "such", "both",
}


def before(question: str) -> bool:
    """The detector before issue 15: any pronoun or demonstrative, or fewer than 2 content terms."""
    low = fold(question)
    if set(words(low)) & _OLD_ANAPHORA or re.match(r"^\s*(and|but|what about|how about|also|so)\b", low):
        return True
    return len(content_terms(question)) < 2


def load_pairs(path: Path = PAIRS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def score(pairs: list[dict], detect: Callable[[str], bool]) -> dict:
    """Precision, recall, F1 and accuracy with follow-ups as the positive class, and every miss."""
    tp = fp = fn = tn = 0
    errors = []
    for i, pair in enumerate(pairs):
        said, label = bool(detect(pair["question"])), bool(pair["followup"])
        tp += said and label
        fp += said and not label
        fn += label and not said
        tn += not said and not label
        if said != label:
            errors.append({"line": i + 1, "label": label, "previous": pair["previous"], "question": pair["question"]})
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    return {"n_pairs": len(pairs), "n_followups": tp + fn, "precision": _r(precision), "recall": _r(recall),
            "f1": _r(f1), "accuracy": _r((tp + tn) / len(pairs)) if pairs else None,
            "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn}, "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    pairs = load_pairs(args.pairs)
    result = {"current": score(pairs, needs_context), "before": score(pairs, before)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, s in result.items():
        print(f"{name:<8} pairs {s['n_pairs']} (follow-ups {s['n_followups']}): precision {s['precision']}, "
              f"recall {s['recall']}, f1 {s['f1']}, accuracy {s['accuracy']}  {s['confusion']}")
    for err in result["current"]["errors"]:
        print(f"  miss line {err['line']} label={'follow-up' if err['label'] else 'standalone'}: {err['question']}")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
