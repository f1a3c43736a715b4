"""The eval runner: dataset -> Assistant.answer() in its own store -> metrics -> report and baseline gate.

The metrics themselves are pure and live in `assistant.metrics`; this module does the I/O.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assistant.metrics import SUMMARY_KEYS, QuestionScores, extra_summary, score_question, summarize
from assistant.settings import Settings

if TYPE_CHECKING:
    import argparse

    from langchain_core.embeddings import Embeddings

    from assistant.answer import Assistant
    from assistant.types import Answer, Passage

DEFAULT_DATASET = Path("evals/golden.jsonl")
DEFAULT_CORPUS = Path("corpus")
DEFAULT_BASELINE = Path("evals/baseline.json")
DEFAULT_TOLERANCE = 0.02
RANK_DEPTH = 10


class DatasetError(ValueError):
    """A dataset line is malformed."""


@dataclass(frozen=True)
class Case:
    """One eval question with its gold data.

    `turns` are earlier questions of the same conversation, answered live first;
    `history` is a fixed list of earlier (question, answer) pairs.
    """

    id: str
    question: str
    answerable: bool
    answers: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    gold_docs: tuple[str, ...] = ()
    gold_quotes: tuple[str, ...] = ()
    turns: tuple[str, ...] = ()
    history: tuple[tuple[str, str], ...] = ()


def load_dataset(path: Path) -> list[Case]:
    """Read a JSONL dataset (golden or external format); raise DatasetError naming the bad line."""
    cases: list[Case] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            case = Case(
                id=str(row["id"]),
                question=str(row["question"]),
                answerable=bool(row["answerable"]),
                answers=tuple(row.get("answers", [])),
                facts=tuple(row.get("facts", [])),
                gold_docs=tuple(row.get("gold_docs", [])),
                gold_quotes=tuple(row.get("gold_quotes", [])),
                turns=tuple(row.get("turns", [])),
                history=tuple((str(q), str(a)) for q, a in row.get("history", [])),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"{path}:{lineno}: bad dataset line ({exc!r}); need id, question, answerable") from None
        cases.append(case)
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise DatasetError(f"{path}: duplicate question ids")
    return cases


def eval_settings(settings: Settings, dataset: Path, corpus: Path, data_dir: Path) -> Settings:
    """The user's settings pointed at a private folder store and a collection named after the dataset."""
    digest = hashlib.sha256(dataset.read_bytes()).hexdigest()[:12]
    return settings.with_(data_dir=data_dir, corpus_dir=corpus, chroma_url=None, collection=f"eval-{digest}")


@dataclass
class Run:
    """One question's outcome: the answer, the ranking scored for retrieval, and its scores."""

    case: Case
    answer: Answer
    ranked: list[Passage]
    history: list[tuple[str, str]] = field(default_factory=list)


def ranking(bot: Assistant, question: str, history: Sequence[tuple[str, str]], answer: Answer) -> list[Passage]:
    """The answer's passages, extended to RANK_DEPTH with the retriever's next hits for the same search."""
    from assistant.answer import clean_question
    from assistant.condense import condense

    ranked = list(answer.passages)
    if len(ranked) < RANK_DEPTH:
        standalone, context = condense(clean_question(question, bot.settings.max_question_chars), history)
        seen = {p.chunk_id for p in ranked}
        for p in bot.retriever.search(f"{standalone} {context}".strip(), RANK_DEPTH):
            if p.chunk_id not in seen and len(ranked) < RANK_DEPTH:
                ranked.append(p)
    return ranked[:RANK_DEPTH]


def run_cases(bot: Assistant, cases: Sequence[Case], *, progress: bool | None = None) -> list[Run]:
    """Answer every case with `bot.answer()` (earlier turns first), in order."""
    from tqdm import tqdm

    runs = []
    for case in tqdm(cases, desc="eval", unit="q", disable=None if progress is None else not progress, file=sys.stderr):
        history = list(case.history)
        for turn in case.turns:
            history.append((turn, bot.answer(turn, history).text))
        answer = bot.answer(case.question, history)
        runs.append(Run(case, answer, ranking(bot, case.question, history, answer), history))
    return runs


def score_runs(runs: Sequence[Run]) -> list[QuestionScores]:
    """Score every run (pure)."""
    return [
        score_question(
            r.answer, answerable=r.case.answerable, ranked_docs=[p.doc_id for p in r.ranked],
            ranked_texts=[p.text for p in r.ranked], gold_docs=r.case.gold_docs, gold_quotes=r.case.gold_quotes,
            answers=r.case.answers, facts=r.case.facts,
        )
        for r in runs
    ]


def _timings(runs: Sequence[Run], extra: dict[str, float]) -> dict[str, float]:
    totals = sorted(r.answer.timings.get("total_s", 0.0) for r in runs) or [0.0]
    out = {
        "answer_mean_s": statistics.fmean(totals),
        "answer_p50_s": totals[len(totals) // 2],
        "answer_p95_s": totals[min(len(totals) - 1, int(0.95 * len(totals)))],
        **extra,
    }
    return {k: round(v, 4) for k, v in out.items()}


def _row(run: Run, s: QuestionScores) -> dict[str, Any]:
    a = run.answer
    return {
        "id": run.case.id, "question": run.case.question, "history": [list(h) for h in run.history],
        "answerable": run.case.answerable, "refused": a.refused, "answer": a.text,
        "standalone_question": a.standalone_question, "gold_answers": list(run.case.answers),
        "facts": list(run.case.facts), "gold_docs": list(run.case.gold_docs),
        "retrieved_docs": [p.doc_id for p in run.ranked],
        "citations": [{"n": c.n, "doc_id": c.doc_id, "chunk_id": c.chunk_id, "quote": c.quote} for c in a.citations],
        "verdicts": s.citations.sentences if s.citations else [],
        "metrics": {
            "hit_at_1": s.hit_at_1, "hit_at_5": s.hit_at_5, "rr_at_10": s.rr_at_10, "passage_rr_at_10": s.passage_rr_at_10,
            "accuracy": s.accuracy, "exact_match": s.exact_match, "f1": None if s.f1 is None else round(s.f1, 4),
            "citation_recall": None if s.citations is None else round(s.citations.recall, 4),
            "citation_precision": None if s.citations is None else round(s.citations.precision, 4),
        },
        "changes": list(a.changes), "timings": dict(a.timings),
        "backend": a.backend, "notes": list(a.notes),  # backend "extractive" on an LLM run = a fallback
    }


def build_report(
    runs: Sequence[Run], *, dataset: str, settings: Settings, timings: dict[str, float] | None = None
) -> dict[str, Any]:
    """The report.json object: summary (SUMMARY_KEYS + timings), extra metrics, settings and per-question rows."""
    scores = score_runs(runs)
    summary = summarize(scores)
    summary["timings"] = _timings(runs, timings or {})
    return {
        "dataset": dataset,
        "summary": summary,
        "extra": extra_summary(scores),
        "settings": {**settings.describe(), "store": "temporary folder", "rank_depth": str(RANK_DEPTH)},
        "questions": [_row(r, s) for r, s in zip(runs, scores)],
    }


def run_eval(
    dataset: Path, corpus: Path, settings: Settings, *, embedder: Embeddings | None = None,
    limit: int | None = None, progress: bool | None = None,
) -> tuple[dict[str, Any], list[Run]]:
    """Ingest `corpus` into a private temporary store, answer the dataset, and build the report."""
    from assistant.answer import Assistant

    cases = load_dataset(dataset)[:limit]
    if not corpus.is_dir():
        raise DatasetError(f"corpus folder {corpus} does not exist; pass --corpus DIR")
    with tempfile.TemporaryDirectory(prefix="assistant-eval-", ignore_cleanup_errors=True) as tmp:
        s = eval_settings(settings, dataset, corpus, Path(tmp))
        t0 = time.perf_counter()
        bot = Assistant(s, embedder=embedder)
        bot.ingest([corpus], show_progress=False)
        t1 = time.perf_counter()
        runs = run_cases(bot, cases, progress=progress)
        t2 = time.perf_counter()
    report = build_report(runs, dataset=dataset.name, settings=s, timings={"ingest_s": t1 - t0, "run_s": t2 - t1})
    return report, runs


# -- baseline gate -------------------------------------------------------------------------------------


def check_baseline(summary: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Metrics that fell below the baseline by more than its tolerance (or vanished)."""
    tolerance = float(baseline.get("tolerance", DEFAULT_TOLERANCE))
    failures = []
    for key in SUMMARY_KEYS[1:]:
        base = baseline["summary"].get(key)
        now = summary.get(key)
        if base is None:
            continue
        if now is None or now < base - tolerance:
            failures.append(f"{key}: {now} < baseline {base} - {tolerance}")
    return failures


def baseline_from(report: dict[str, Any], tolerance: float = DEFAULT_TOLERANCE) -> dict[str, Any]:
    """The baseline.json object for a full run's report."""
    summary = {k: report["summary"][k] for k in SUMMARY_KEYS}
    return {
        "dataset": report["dataset"],
        "tolerance": tolerance,
        "note": "Written by `assistant eval --update-baseline`. --check-baseline fails when a metric is below its "
        "baseline value minus the absolute tolerance.",
        "settings": report["settings"],
        "summary": summary,
    }


# -- output ----------------------------------------------------------------------------------------------


def _fmt(v: Any) -> str:
    return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def render_table(report: dict[str, Any]) -> str:
    """Plain-text table: one line per question, then the summary."""
    lines = [f"{'id':<8} {'ans':<4} {'ref':<4} {'acc':>5} {'f1':>5} {'c.rec':>5} {'c.pre':>5}  answer"]
    for q in report["questions"]:
        m = q["metrics"]
        text = " ".join(q["answer"].split())
        lines.append(
            f"{q['id']:<8} {'y' if q['answerable'] else 'n':<4} {'y' if q['refused'] else 'n':<4} {_fmt(m['accuracy']):>5} "
            f"{_fmt(m['f1']):>5} {_fmt(m['citation_recall']):>5} {_fmt(m['citation_precision']):>5}  {text[:70]}"
        )
    lines.append("")
    lines += [f"{k:<20} {_fmt(report['summary'][k])}" for k in SUMMARY_KEYS]
    lines += [f"{k:<20} {_fmt(v)}" for k, v in report["extra"].items()]
    return "\n".join(lines)


def render_markdown(report: dict[str, Any]) -> str:
    """report.md: summary tables, then every question with its answer, citations and verdicts."""
    out = [f"# Eval report: {report['dataset']}", ""]
    described = report.get("settings", {})
    out += [f"Backend: {described.get('llm', '?')}; verifier judge: {described.get('judge', 'offline')}", ""]
    out += ["| metric | value |", "|---|---|"]
    out += [f"| {k} | {_fmt(report['summary'][k])} |" for k in SUMMARY_KEYS]
    out += [f"| {k} | {_fmt(v)} |" for k, v in {**report["extra"], **report["summary"]["timings"]}.items()]
    for q in report["questions"]:
        status = "refused" if q["refused"] else "answered"
        out += ["", f"## {q['id']}: {q['question']}", ""]
        out += [f"- after: {h[0]}" for h in q["history"]]
        out += [f"- answerable: {q['answerable']}, {status}; gold: {'; '.join(q['gold_answers']) or '-'}",
                "- metrics: " + ", ".join(f"{k}={_fmt(v)}" for k, v in q["metrics"].items()), "", f"> {q['answer']}", ""]
        out += [f"- [{c['n']}] `{c['chunk_id']}`: “{' '.join(c['quote'].split())}”" for c in q["citations"]]
        out += [f"- verdict: {'supported' if v['supported'] else 'NOT supported'} {v['markers']}: {v['sentence']}"
                for v in q["verdicts"]]
    return "\n".join(out) + "\n"


def write_report(report: dict[str, Any], folder: Path) -> None:
    """Write report.json and report.md into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "report.md").write_text(render_markdown(report), encoding="utf-8")


def run_cli(args: argparse.Namespace, settings: Settings, *, out: TextIO | None = None) -> int:
    """`assistant eval`: run, print, write the report; gate on or update the baseline. Returns the exit code."""
    out = out or sys.stdout
    dataset = args.dataset or DEFAULT_DATASET
    corpus = args.corpus or DEFAULT_CORPUS
    if args.update_baseline and args.limit:
        out.write("error: --update-baseline needs a full run; drop --limit\n")
        return 2
    try:
        report, _ = run_eval(dataset, corpus, settings, limit=args.limit)
    except (DatasetError, FileNotFoundError) as exc:
        out.write(f"error: {exc}\n")
        return 2
    folder = args.report or Path("evals/results") / dataset.stem
    write_report(report, folder)
    out.write(render_table(report) + f"\n\nreport: {folder / 'report.json'}, {folder / 'report.md'}\n")
    if args.update_baseline:
        DEFAULT_BASELINE.write_text(json.dumps(baseline_from(report), indent=2) + "\n", encoding="utf-8")
        out.write(f"baseline written to {DEFAULT_BASELINE}\n")
    if args.check_baseline:
        baseline = json.loads(DEFAULT_BASELINE.read_text(encoding="utf-8"))
        if baseline.get("dataset") != report["dataset"]:
            out.write(f"error: the baseline is for {baseline.get('dataset')}, not {report['dataset']}\n")
            return 2
        failures = check_baseline(report["summary"], baseline)
        if baseline.get("settings", {}).get("llm") != report["settings"]["llm"]:
            out.write(f"note: the baseline was recorded with llm={baseline['settings'].get('llm')}\n")
        for f in failures:
            out.write(f"REGRESSION {f}\n")
        out.write("baseline check: " + ("FAILED\n" if failures else "passed\n"))
        return 1 if failures else 0
    return 0
