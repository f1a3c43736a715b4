"""Summarise `assistant eval` reports of the local backend next to the offline answerer's on the same questions.

    python -m benchmarks.local_quality --pair golden LOCAL/report.json OFFLINE/report.json [--pair dev ...] [--out NAME]

For each pair: the summary metrics of both, the local run's fallback rate (answers whose backend is `extractive`),
answers refused by the offline answerability gate, seconds per answer, and every question the offline answerer
gets right and the local one does not (with both answers). Writes benchmarks/results/local_quality.json
(or `--out NAME`: benchmarks/results/NAME.json).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from benchmarks.common import write

GATE = "the offline answerability check found no answer"


def _mean(values: list) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def summary(rows: list[dict]) -> dict:
    """The eval summary recomputed from per-question rows (as assistant.metrics.summarize does)."""
    refused = [r["refused"] for r in rows]
    unanswerable = [not r["answerable"] for r in rows]
    tp = sum(1 for a, u in zip(refused, unanswerable) if a and u)
    verdicts = [v for r in rows if not r["refused"] for v in r.get("verdicts", [])]
    return {
        "n_questions": len(rows), "n_answerable": sum(1 for r in rows if r["answerable"]),
        "answer_accuracy": _mean([r["metrics"].get("accuracy") for r in rows]),
        "answer_f1": _mean([r["metrics"].get("f1") for r in rows]),
        "refusal_precision": round(tp / sum(refused), 4) if sum(refused) else None,
        "refusal_recall": round(tp / sum(unanswerable), 4) if sum(unanswerable) else None,
        "citation_precision": _mean([r["metrics"].get("citation_precision") for r in rows]),
        "citation_recall": _mean([r["metrics"].get("citation_recall") for r in rows]),
        "faithfulness": round(sum(1 for v in verdicts if v["supported"]) / len(verdicts), 4) if verdicts else None,
    }


def local_figures(report: dict) -> dict:
    rows = report["questions"]
    fallback = [r for r in rows if r.get("backend") == "extractive"]
    gated = [r for r in rows if any(GATE in c for c in r.get("changes", []))]
    written = [r for r in rows if r not in fallback and r not in gated]
    secs = [r["timings"].get("total_s", 0.0) for r in rows]
    wsecs = [r["timings"].get("total_s", 0.0) for r in written]
    return {
        "fallback_rate": round(len(fallback) / len(rows), 3),
        "fallback_reasons": sorted({n for r in fallback for n in r.get("notes", [])}),
        "gated_refusals": len(gated),
        "written_by_model": len(written),
        "seconds_per_answer_mean": round(statistics.mean(secs), 1),
        "seconds_per_answer_p50": round(statistics.median(secs), 1),
        "seconds_per_model_answer_mean": round(statistics.mean(wsecs), 1) if wsecs else None,
        "verifier_removed_sentences": sum(1 for r in rows for c in r.get("changes", []) if c.startswith("removed unsupported")),
        "verifier_repointed": sum(1 for r in rows for c in r.get("changes", []) if c.endswith(" instead")),
        "judge": report.get("settings", {}).get("judge"),
    }


def worse(local: dict, offline: dict) -> list[dict]:
    by_id = {r["id"]: r for r in offline["questions"]}
    out = []
    for r in local["questions"]:
        o = by_id.get(r["id"])
        if o and o["metrics"].get("accuracy") == 1.0 and r["metrics"].get("accuracy") == 0.0:
            out.append({"id": r["id"], "question": r["question"], "gold": r["gold_answers"], "local": r["answer"],
                        "local_backend": r.get("backend"), "offline": o["answer"]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pair", nargs=3, action="append", metavar=("NAME", "LOCAL", "OFFLINE"), required=True)
    parser.add_argument("--command", default="", help="the commands that produced the reports, for the record")
    parser.add_argument("--out", default="local_quality", help="results file name (benchmarks/results/<out>.json)")
    parser.add_argument("--note", default="", help="what the figures show, for the record")
    parser.add_argument("--formats", nargs=2, metavar=("JSON_REPORT", "TEXT_REPORT"),
                        help="ASSISTANT_ANSWER_FORMAT=json and =text runs: compared on the questions both answered")
    args = parser.parse_args()
    sets: dict = {}
    if args.formats:
        runs = [json.loads(Path(p).read_text(encoding="utf-8"))["questions"] for p in args.formats]
        both = [q["id"] for q in runs[0] if q["id"] in {r["id"] for r in runs[1]}]
        picked = [[next(r for r in rows if r["id"] == i) for i in both] for rows in runs]
        sets["answer_format"] = {"ids": both, **{name: {**summary(rows), **local_figures({"questions": rows, "settings": {}})}
                                                for name, rows in zip(("json", "text"), picked)}}
        print("formats", json.dumps(sets["answer_format"]["json"]), json.dumps(sets["answer_format"]["text"]), sep="\n")
    for name, local_path, offline_path in args.pair:
        local = json.loads(Path(local_path).read_text(encoding="utf-8"))
        offline = json.loads(Path(offline_path).read_text(encoding="utf-8"))
        ids = [q["id"] for q in local["questions"]]  # the offline run may cover more questions: score the same ones
        by_id = {q["id"]: q for q in offline["questions"]}
        offline_rows = [by_id[i] for i in ids]
        regressions = worse(local, offline)
        sets[name] = {"dataset": local["dataset"], "ids": ids,
                      "local": {**summary(local["questions"]), **local_figures(local)},
                      "offline": {**summary(offline_rows),
                                  "seconds_per_answer_mean": offline["summary"]["timings"].get("answer_mean_s")},
                      "offline_right_local_wrong": regressions}
        print(name, json.dumps(sets[name]["local"]), json.dumps(sets[name]["offline"]), len(regressions), sep="\n")
    write(args.out, {"sets": sets, "command": args.command, **({"note": args.note} if args.note else {})})


if __name__ == "__main__":
    main()
