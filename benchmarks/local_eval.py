"""`assistant eval` with a wall-clock budget: answer questions until --until, then report on those answered.

    python -m benchmarks.local_eval --dataset D.jsonl --corpus DIR --report OUT --until 17:00 [--done OUT/ids.jsonl]

Same steps and report as `assistant eval` (private store, `Assistant.answer`, `build_report`); for slow backends
on a shared machine. Prints one line per question as it goes and writes the answered questions' dataset lines to
OUT/answered.jsonl, so the offline answerer can be scored on exactly the same questions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--until", required=True, help="UTC wall-clock time HH:MM after which no new question starts")
    args = parser.parse_args()

    from assistant.answer import Assistant
    from assistant.evals import build_report, eval_settings, load_dataset, run_cases, write_report
    from assistant.settings import Settings

    hh, mm = (int(x) for x in args.until.split(":"))
    now = dt.datetime.now(dt.timezone.utc)
    stop = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
    cases = load_dataset(args.dataset)
    lines = [line for line in args.dataset.read_text(encoding="utf-8").splitlines() if line.strip()]
    runs = []
    with tempfile.TemporaryDirectory(prefix="assistant-eval-", ignore_cleanup_errors=True) as tmp:
        s = eval_settings(Settings.from_env(), args.dataset, args.corpus, Path(tmp))
        t0 = time.perf_counter()
        bot = Assistant(s)
        bot.ingest([args.corpus], show_progress=False)
        t1 = time.perf_counter()
        answered = []
        for case, line in zip(cases, lines):
            if dt.datetime.now(dt.timezone.utc) >= stop:
                break
            run = run_cases(bot, [case], progress=False)[0]
            runs.append(run)
            answered.append(line)
            a = run.answer
            print(f"{len(runs)}/{len(cases)} {case.id} {a.backend} refused={a.refused} "
                  f"{a.timings.get('total_s', 0):.0f}s {' '.join(a.text.split())[:100]}", flush=True)
            # the report so far, after every question: stopping the run early loses nothing
            timings = {"ingest_s": t1 - t0, "run_s": time.perf_counter() - t1}
            report = build_report(runs, dataset=args.dataset.name, settings=s, timings=timings)
            write_report(report, args.report)
            (args.report / "answered.jsonl").write_text("\n".join(answered) + "\n", encoding="utf-8")
    if runs:
        print(json.dumps(report["summary"], indent=1))


if __name__ == "__main__":
    main()
