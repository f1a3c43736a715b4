"""Conflict detection measured (issue 14): the article-pair fixture and answer-swapped dev paragraphs.

    python benchmarks/bench_conflicts.py [--swapped-split report] [--limit N] [--skip-swapped] [--skip-own]

1. tests/fixtures/conflicts: every article ingested into one store; each case's question asked of the whole
   library. The cases are split by a fixed rule, written down before any tuning (SPLIT_RULE): a case whose id
   number is odd (d01, d03, ..., a01, a03, ...) is `dev`, even is `report`. Conflict detection is developed on
   `dev` failures only; `report` is the claim. tests/fixtures/conflicts-dev holds further development pairs
   (other topics, written for tuning; `own-dev`), measured the same way in their own store. A disagreeing pair counts as flagged when `conflicts` is non-empty and its claims cite both of the
   pair's articles (each claim's [n] in the answer); an agreeing pair counts as flagged when `conflicts` is non-empty.
   tests/fixtures/conflicts-dev2 (`dev2`): 60 pairs written as a held-out set by someone who never read the
   detector, measured once as such (benchmarks/results/conflicts-heldout-first.json), then developed on.
   tests/fixtures/conflicts-dev3 (`dev3`): 60 more pairs written the same way; asked twice as held out (last: 0.300 /
   0.200, benchmarks/results/conflicts-heldout2-first.json), then developed on.
   tests/fixtures/conflicts-heldout3 (`heldout`): 60 more pairs written the same way (session 7), reading neither
   the detector nor the other sets; report only, never tuned on, skipped by --dev-only.
   Targets: >= 90% of disagreeing pairs flagged with both claims cited, <= 5% of agreeing pairs flagged.
2. evals/make_swapped_dev.py on the `report` split (never tuned on): each question asked of the paragraphs plus
   their answer-swapped copies. An answer "gives only the swapped value" when its text contains the swapped value
   and none of the gold answers. Target: <= 5%.

Writes benchmarks/results/conflicts.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import RESULTS, machine  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "conflicts"
OWN_DEV = ROOT / "tests" / "fixtures" / "conflicts-dev"
DEV2 = ROOT / "tests" / "fixtures" / "conflicts-dev2"
DEV3 = ROOT / "tests" / "fixtures" / "conflicts-dev3"
HELDOUT = ROOT / "tests" / "fixtures" / "conflicts-heldout3"
SPLIT_RULE = "fixture case id number odd (d01, d03, ..., a01, a03, ...) -> dev; even -> report (fixed before tuning)"


def split_of(case_id: str) -> str:
    """`dev` or `report` by SPLIT_RULE."""
    return "dev" if int(re.sub(r"\D", "", case_id)) % 2 else "report"


def _fold(text: str) -> str:
    from assistant.lexical import fold

    return " ".join(re.findall(r"\w+", fold(text)))


def _contains(text: str, value: str) -> bool:
    v = _fold(value)
    return bool(v) and re.search(rf"(?<!\w){re.escape(v)}(?!\w)", _fold(text)) is not None


def _assistant(data_dir: Path) -> Any:
    from assistant import Assistant, Settings

    return Assistant(Settings(data_dir=data_dir, corpus_dir=data_dir / "none"))


def _rates(rows: list[dict[str, Any]]) -> dict[str, Any]:
    dis = [r for r in rows if r["disagree"]]
    agr = [r for r in rows if not r["disagree"]]
    return {
        "cases": len(rows), "disagreeing": len(dis), "agreeing": len(agr),
        "disagreeing_flagged_both_cited": round(sum(r["flagged"] and r["both_cited"] for r in dis) / max(1, len(dis)), 4),
        "disagreeing_flagged_any": round(sum(r["flagged"] for r in dis) / max(1, len(dis)), 4),
        "agreeing_flagged": round(sum(r["flagged"] for r in agr) / max(1, len(agr)), 4),
        "agreeing_refused": round(sum(r["refused"] for r in agr) / max(1, len(agr)), 4),
        "failures": [r for r in rows if (r["disagree"] and not (r["flagged"] and r["both_cited"]))
                     or (not r["disagree"] and r["flagged"])],
    }


def fixture_run(work: Path, fixture: Path, limit: int | None, split: bool = True, dev_only: bool = False,
                label: str = "dev") -> dict[str, Any]:
    """Ask every case of a pair fixture; return rates and the failures (per split when `split`, else all `label`).

    `dev_only`: every article is ingested, but only the `dev` cases are asked (the report half stays unseen).
    """
    bot = _assistant(work / fixture.name)
    t0 = time.perf_counter()
    report = bot.ingest([fixture / "articles"], show_progress=False)
    ingest_s = time.perf_counter() - t0
    cases = [json.loads(line) for line in (fixture / "cases.jsonl").read_text().splitlines() if line.strip()]
    cases = [c for c in cases if split_of(c["id"]) == "dev"] if dev_only else cases
    cases = cases[:limit] if limit else cases
    rows = []
    for case in cases:
        ans = bot.answer(case["question"])
        claims = [c for conflict in ans.conflicts for c in conflict.claims]
        cited = {c.doc_id for c in claims if f"[{c.citation}]" in ans.text}
        both = set(case["docs"]) <= cited
        rows.append({
            "id": case["id"], "split": split_of(case["id"]) if split else label, "disagree": case["disagree"],
            "fact": case.get("fact"), "flagged": bool(ans.conflicts), "both_cited": both, "refused": ans.refused,
            "answer": ans.text, "values_in_answer": [v for v in case.get("values", []) if _contains(ans.text, v)],
        })
    out: dict[str, Any] = {"near_duplicates_at_ingest": report.near_duplicates, "ingest_s": round(ingest_s, 1)}
    if not split:
        return {**out, **_rates(rows)}
    return {**out, "split_rule": SPLIT_RULE, "all": {k: v for k, v in _rates(rows).items() if k != "failures"},
            "dev": _rates([r for r in rows if r["split"] == "dev"]),
            "report": _rates([r for r in rows if r["split"] == "report"])}


def swapped_run(work: Path, split: str, limit: int | None) -> dict[str, Any]:
    """Ask every question of the answer-swapped dev paragraphs; return how often only the swapped value is given."""
    from evals.make_swapped_dev import main as make

    out = work / f"swapped-{split}"
    if make(["--out", str(out), "--split", split]) != 0:
        raise SystemExit("make_swapped_dev failed")
    bot = _assistant(work / f"swapped-data-{split}")
    t0 = time.perf_counter()
    report = bot.ingest([out / "articles"], show_progress=False)
    ingest_s = time.perf_counter() - t0
    questions = [json.loads(line) for line in (out / "questions.jsonl").read_text().splitlines() if line.strip()]
    questions = questions[:limit] if limit else questions
    only_swapped = both = only_gold = neither = refused = flagged = 0
    examples: list[dict[str, str]] = []
    for q in questions:
        ans = bot.answer(q["question"])
        gold = any(_contains(ans.text, a) for a in q["answers"])
        swapped = _contains(ans.text, q["swapped_answer"])
        refused += ans.refused
        flagged += bool(ans.conflicts)
        if swapped and not gold:
            only_swapped += 1
            if len(examples) < 15:
                examples.append({"id": q["id"], "question": q["question"], "gold": q["answers"][0],
                                 "swapped": q["swapped_answer"], "answer": ans.text})
        elif swapped and gold:
            both += 1
        elif gold:
            only_gold += 1
        else:
            neither += 1
    n = max(1, len(questions))
    return {
        "split": split, "questions": len(questions), "documents": report.added,
        "near_duplicates_at_ingest": report.near_duplicates, "ingest_s": round(ingest_s, 1),
        "only_swapped": round(only_swapped / n, 4), "both_values": round(both / n, 4),
        "only_gold": round(only_gold / n, 4), "neither": round(neither / n, 4), "refused": round(refused / n, 4),
        "conflict_flagged": round(flagged / n, 4), "only_swapped_examples": examples,
    }


def main(argv: list[str] | None = None) -> int:
    """Run both measurements and write benchmarks/results/conflicts.json."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--swapped-split", choices=["tune", "report"], default="report")
    ap.add_argument("--limit", type=int, help="only the first N cases/questions of each set")
    ap.add_argument("--skip-swapped", action="store_true")
    ap.add_argument("--skip-own", action="store_true",
                    help="skip the own development pairs (tests/fixtures/conflicts-dev, -dev2, -dev3)")
    ap.add_argument("--dev-only", action="store_true",
                    help="development run: ask only the fixture's dev cases and the own pairs, and the swapped set only "
                         "with --swapped-split tune; "
                         "writes benchmarks/results/conflicts_dev.json unless --out")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    if args.dev_only and args.swapped_split == "report":
        args.skip_swapped = True  # the swapped set's report split is the claim too; its tune split may be used
    args.out = args.out or RESULTS / ("conflicts_dev.json" if args.dev_only else "conflicts.json")
    with tempfile.TemporaryDirectory() as tmp:
        fixture = fixture_run(Path(tmp), FIXTURE, args.limit, dev_only=args.dev_only)
        result: dict[str, Any] = {"machine": machine(), "fixture": fixture}
        if args.dev_only:
            fixture = {k: v for k, v in fixture.items() if k not in ("all", "report")}
        summary = {k: v for k, v in fixture.items() if k not in ("dev", "report")}
        for half in ("dev",) if args.dev_only else ("dev", "report"):
            summary[half] = {k: v for k, v in fixture[half].items() if k != "failures"}
        summary["dev_failures"] = [r["id"] for r in fixture["dev"]["failures"]]  # report failures: in the file only
        print(json.dumps(summary, indent=2))  # noqa: T201
        pair_sets = [("own_dev", OWN_DEV, "dev", not args.skip_own), ("dev2", DEV2, "dev", not args.skip_own),
                     ("dev3", DEV3, "dev", not args.skip_own),
                     ("heldout", HELDOUT, "report", not args.dev_only)]
        for key, folder, label, wanted in pair_sets:
            if wanted and folder.exists():
                result[key] = fixture_run(Path(tmp), folder, args.limit, split=False, label=label)
                print(json.dumps({k: v for k, v in result[key].items() if k != "failures"}, indent=2))  # noqa: T201
        if not args.skip_swapped:
            result["swapped"] = swapped_run(Path(tmp), args.swapped_split, args.limit)
            print(json.dumps({k: v for k, v in result["swapped"].items() if k != "only_swapped_examples"}, indent=2))  # noqa: T201
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
