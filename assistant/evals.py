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
    style: str | None = None


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
                style=str(row["style"]) if row.get("style") else None,
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
    """The answer's passages, extended to RANK_DEPTH with `Assistant.search`'s next hits for the same search."""
    from assistant.answer import clean_question
    from assistant.condense import condense

    ranked = list(answer.passages)
    if len(ranked) < RANK_DEPTH:
        standalone, context = condense(clean_question(question, bot.settings.max_question_chars), history)
        seen = {p.chunk_id for p in ranked}
        for p in bot.search(f"{standalone} {context}".strip(), RANK_DEPTH):
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
            answers=r.case.answers, facts=r.case.facts, style=r.case.style,
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
        "answerable": run.case.answerable, "style": run.case.style, "refused": a.refused,
        "refusal_score": a.refusal_score, "answer": a.text,
        "standalone_question": a.standalone_question, "gold_answers": list(run.case.answers),
        "facts": list(run.case.facts), "gold_docs": list(run.case.gold_docs),
        "retrieved_docs": [p.doc_id for p in run.ranked],
        "citations": [{"n": c.n, "doc_id": c.doc_id, "chunk_id": c.chunk_id, "quote": c.quote} for c in a.citations],
        "verdicts": s.citations.sentences if s.citations else [],
        "metrics": {
            "hit_at_1": s.hit_at_1, "hit_at_5": s.hit_at_5, "rr_at_10": s.rr_at_10, "passage_rr_at_10": s.passage_rr_at_10,
            "accuracy": s.accuracy, "quote_has_answer": s.quote_has_answer, "exact_match": s.exact_match,
            "f1": None if s.f1 is None else round(s.f1, 4),
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


def render_markdown(report: dict[str, Any], chart: str | None = None, baseline: dict[str, Any] | None = None) -> str:
    """report.md: the chart, summary tables (with the baseline when given), then every question in detail."""
    out = [f"# Eval report: {report['dataset']}", ""]
    described = report.get("settings", {})
    out += [f"Backend: {described.get('llm', '?')}; verifier judge: {described.get('judge', 'offline')}", ""]
    if chart:
        out += [f"![metrics against the baseline, refusal scores]({chart})", ""]
    base = baseline or {}
    out += ["| metric | value | baseline |", "|---|---|---|"]
    out += [f"| {k} | {_fmt(report['summary'][k])} | {_fmt(base.get(k))} |" for k in SUMMARY_KEYS]
    out += [f"| {k} | {_fmt(v)} | {_fmt(base.get(k))} |" for k, v in report["extra"].items()]
    out += [f"| {k} | {_fmt(v)} | |" for k, v in report["summary"]["timings"].items()]
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


def write_report(
    report: dict[str, Any], folder: Path, *, baseline: dict[str, Any] | None = None, tolerance: float = 0.02,
    chart: bool = True, title: str | None = None,
) -> None:
    """Write report.json, report.md and its chart (report.png) into `folder`.

    `baseline` maps figure names to the baseline's values (bars are drawn against them).
    """
    from assistant.chart import CHART_NAME, draw
    from assistant.gate import gated_figures

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if chart:
        draw(folder / CHART_NAME, f"{title or report['dataset']}: {report['summary']['n_questions']} questions",
             gated_figures(report), baseline, report["questions"], tolerance)
    md = render_markdown(report, CHART_NAME if chart else None, baseline)
    (folder / "report.md").write_text(md, encoding="utf-8")


def run_cli(args: argparse.Namespace, settings: Settings, *, out: TextIO | None = None) -> int:
    """`assistant eval`: the gated suite (no --dataset), or one dataset; gate on or update the baseline."""
    from assistant import gate

    out = out or sys.stdout
    if args.dataset is None and args.corpus is None:
        return gate.run_cli(args, settings, out=out)
    dataset = args.dataset or DEFAULT_DATASET
    corpus = args.corpus or DEFAULT_CORPUS
    if args.update_baseline:
        out.write("error: --update-baseline records the whole gated suite; drop --dataset/--corpus\n")
        return 2
    gated = gate.set_for_dataset(dataset)
    try:
        baseline = gate.read_baseline() if args.check_baseline else None
        entry = None
        if baseline is not None:
            entry = baseline["sets"].get(gated.name) if gated else None
            if entry is None:
                out.write(f"error: {dataset} is not a gated set of {gate.DEFAULT_BASELINE}; the gated sets are "
                          f"{', '.join(baseline['sets'])} (run `assistant eval --check-baseline` for all)\n")
                return 2
        report, _ = run_eval(dataset, corpus, settings, limit=args.limit)
    except (DatasetError, gate.GateError, FileNotFoundError) as exc:
        out.write(f"error: {exc}\n")
        return 2
    folder = args.report or Path("evals/results") / dataset.stem
    tolerance = float((baseline or {}).get("tolerance", gate.DEFAULT_TOLERANCE))
    write_report(report, folder, baseline=entry["figures"] if entry else None, tolerance=tolerance)
    out.write(render_table(report) + f"\n\nreport: {folder / 'report.md'} (+ report.json, report.png)\n")
    if baseline is not None and gated is not None and entry is not None:
        result = {gated.name: {"figures": gate.gated_figures(report)}}
        failures = gate.check(result, {**baseline, "sets": {gated.name: entry}})
        for f in failures:
            out.write(f"REGRESSION {f}\n")
        out.write("baseline check: " + ("FAILED\n" if failures else "passed\n"))
        return 1 if failures else 0
    return 0
