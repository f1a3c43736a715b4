"""The CI gate: every gated eval set, the figures that can regress, and the baseline they must not fall below.

`assistant eval --check-baseline` runs each set named in evals/baseline.json (golden, news, dev sample,
multi-article fixture, and the support judge on its labelled pairs) and fails when any figure falls below its
baseline minus the tolerance. `--update-baseline` rewrites the file from a full run and refuses to lower any
figure unless given `--allow-drop "reason"`, which it records. Pure comparison logic apart from the runs.
"""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.metrics import SUMMARY_KEYS
from assistant.settings import Settings

DEFAULT_BASELINE = Path("evals/baseline.json")
DEFAULT_TOLERANCE = 0.02
JUDGE_SET = "judge"
JUDGE_PAIRS_GLOB = "judge_pairs*.jsonl"  # in evals/
JUDGE_FIGURES = ("precision", "recall", "accuracy")


@dataclass(frozen=True)
class GatedSet:
    """One eval dataset the gate runs, with its corpus folder (paths relative to the repository root)."""

    name: str
    dataset: Path
    corpus: Path


SUITE = (
    GatedSet("golden", Path("evals/golden.jsonl"), Path("corpus")),
    GatedSet("news", Path("evals/news/dataset.jsonl"), Path("evals/news/articles")),
    GatedSet("dev", Path("evals/dev/questions.jsonl"), Path("evals/dev/articles")),
    GatedSet("multi", Path("tests/fixtures/multi/dataset.jsonl"), Path("tests/fixtures/multi/articles")),
)
SET_NAMES = (*(s.name for s in SUITE), JUDGE_SET)


class GateError(ValueError):
    """The gate cannot run as asked (unknown set, missing files, partial baseline update)."""


def available_sets(names: Sequence[str] | None = None) -> list[GatedSet]:
    """The suite's sets whose files exist (all of `names`, which must exist, when given)."""
    unknown = sorted(set(names or ()) - set(SET_NAMES))
    if unknown:
        raise GateError(f"unknown eval set {', '.join(unknown)}; the gated sets are {', '.join(SET_NAMES)}")
    chosen = [s for s in SUITE if names is None or s.name in names]
    missing = [s for s in chosen if not (s.dataset.is_file() and s.corpus.is_dir())]
    if names is not None and missing:
        raise GateError(f"eval set {missing[0].name}: {missing[0].dataset} or {missing[0].corpus} is missing")
    return [s for s in chosen if s not in missing]


def set_for_dataset(dataset: Path) -> GatedSet | None:
    """The gated set whose dataset file is `dataset`, if any."""
    return next((s for s in SUITE if s.dataset.resolve() == dataset.resolve()), None)


def gated_figures(report: dict[str, Any]) -> dict[str, float | None]:
    """Every figure of an eval report that can regress.

    The summary metrics (not n_questions, not timings) and the extras (gold-passage retrieval,
    quote_has_answer, per-style accuracy and refusal recall).
    """
    out: dict[str, float | None] = {k: report["summary"].get(k) for k in SUMMARY_KEYS if k != "n_questions"}
    out.update(report.get("extra", {}))
    return out


def judge_pair_files(folder: Path = Path("evals")) -> list[Path]:
    """The labelled judge-pair files the gate validates the support judge on."""
    return sorted(folder.glob(JUDGE_PAIRS_GLOB))


def judge_figures(files: Sequence[Path]) -> dict[str, Any]:
    """Precision, recall and accuracy of `assistant.judge.supports` on each pair file (and on all pairs)."""
    from assistant.metrics import judge_validation

    figures: dict[str, float | None] = {}
    pairs_all: list[dict[str, Any]] = []
    for path in files:
        pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        pairs = [{**p, "label": p["label"] if "label" in p else p["supported"]} for p in pairs]  # v2 says "supported"
        pairs_all += pairs
        result = judge_validation(pairs)
        figures.update({f"{path.stem}.{k}": result[k] for k in JUDGE_FIGURES})
    if len(files) > 1:
        result = judge_validation(pairs_all)
        figures.update({f"all.{k}": result[k] for k in JUDGE_FIGURES})
    return {"files": [str(p) for p in files], "n_pairs": len(pairs_all), "figures": figures}


def recorded_settings(settings: Settings) -> dict[str, str]:
    """The settings a baseline was recorded with (the ones that change the figures)."""
    return {
        "llm": settings.llm if settings.llm == "extractive" else f"openai ({settings.model})",
        "embeddings": settings.embeddings, "top_k": str(settings.top_k),
        "chunk_tokens": str(settings.chunk_tokens), "chunk_overlap": str(settings.chunk_overlap),
    }


# -- comparison (pure) ---------------------------------------------------------------------------------


def regressions(figures: dict[str, Any], base: dict[str, Any], tolerance: float) -> list[str]:
    """Figures below their baseline minus `tolerance`, or gone (None) where the baseline had a value."""
    failures = []
    for key, was in base.items():
        if was is None:
            continue
        now = figures.get(key)
        if now is None or now < was - tolerance:
            failures.append(f"{key}: {now} < baseline {was} - {tolerance}")
    return failures


def check(results: dict[str, dict[str, Any]], baseline: dict[str, Any]) -> list[str]:
    """Every regression of `results` ({set: {"figures": ...}}) against the baseline, prefixed with its set."""
    tolerance = float(baseline.get("tolerance", DEFAULT_TOLERANCE))
    failures = []
    for name, entry in baseline["sets"].items():
        if name not in results:
            failures.append(f"{name}: not run (the baseline gates it)")
            continue
        failures += [f"{name}.{f}" for f in regressions(results[name]["figures"], entry["figures"], tolerance)]
    return failures


def drops(new: dict[str, dict[str, Any]], old: dict[str, Any]) -> list[str]:
    """Every figure (or set) the new results would lower, by any amount, against the old baseline."""
    out = []
    for name, entry in old.get("sets", {}).items():
        if name not in new:
            out.append(f"{name}: set removed from the gate")
            continue
        for key, was in entry["figures"].items():
            now = new[name]["figures"].get(key)
            if was is not None and (now is None or now < was):
                out.append(f"{name}.{key}: {was} -> {now}")
    return out


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def new_baseline(
    results: dict[str, dict[str, Any]], old: dict[str, Any] | None, settings: Settings, *,
    allow_drop: str | None = None, tolerance: float = DEFAULT_TOLERANCE,
) -> tuple[dict[str, Any] | None, list[str]]:
    """(the baseline to write, the drops it makes); None when it would lower a figure and no reason was given."""
    lowered = drops(results, old or {})
    if lowered and not allow_drop:
        return None, lowered
    history = list((old or {}).get("allowed_drops", []))
    if lowered:
        history.append({"date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "commit": _commit(),
                        "reason": allow_drop, "drops": lowered})
    baseline = {
        "tolerance": tolerance,
        "note": "Written by `assistant eval --update-baseline`. `assistant eval --check-baseline` runs every set "
        "below and fails when a figure is below its baseline value minus the absolute tolerance, or gone. "
        "--update-baseline refuses to lower a figure unless given --allow-drop REASON, recorded in allowed_drops.",
        "settings": recorded_settings(settings),
        "sets": results,
        "allowed_drops": history,
    }
    return baseline, lowered


def read_baseline(path: Path = DEFAULT_BASELINE) -> dict[str, Any]:
    """The committed baseline (GateError when missing); an old golden-only file reads as its golden set."""
    if not path.is_file():
        raise GateError(f"{path} does not exist; record one with `assistant eval --update-baseline`")
    baseline: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if "sets" not in baseline:  # the single-set form written before the suite existed
        figures = {k: v for k, v in baseline["summary"].items() if k != "n_questions"}
        baseline = {**baseline, "sets": {"golden": {"dataset": "evals/golden.jsonl", "figures": figures}}}
    return baseline


def write_baseline(baseline: dict[str, Any], path: Path = DEFAULT_BASELINE) -> None:
    """Write the baseline file (stable key order, so diffs are readable)."""
    path.write_text(json.dumps(baseline, indent=2) + "\n", encoding="utf-8")


# -- the suite run (I/O) ---------------------------------------------------------------------------------


def run_suite(
    settings: Settings, names: Sequence[str] | None, *, report_root: Path, baseline: dict[str, Any] | None,
    limit: int | None = None, out: Any = None,
) -> dict[str, dict[str, Any]]:
    """Run the named gated sets (default: all whose files exist), write each report, return their results."""
    import time

    from assistant.embed import make_embeddings
    from assistant.evals import run_eval, write_report

    tolerance = float((baseline or {}).get("tolerance", DEFAULT_TOLERANCE))
    base_sets = (baseline or {}).get("sets", {})
    results: dict[str, dict[str, Any]] = {}
    sets = available_sets([n for n in names if n != JUDGE_SET] if names is not None else None)
    embedder = make_embeddings(settings) if sets else None  # loaded once for every set
    for s in sets:
        t0 = time.perf_counter()
        report, _ = run_eval(s.dataset, s.corpus, settings, embedder=embedder, limit=limit)
        entry = base_sets.get(s.name)
        write_report(report, report_root / s.name, baseline=entry["figures"] if entry else None, tolerance=tolerance,
                     title=f"{s.name} ({s.dataset})")
        results[s.name] = {"dataset": str(s.dataset), "corpus": str(s.corpus),
                           "n_questions": report["summary"]["n_questions"], "figures": gated_figures(report)}
        if out is not None:
            out.write(f"{s.name}: {results[s.name]['n_questions']} questions in {time.perf_counter() - t0:.1f} s, "
                      f"report {report_root / s.name / 'report.md'}\n")
    if names is None or JUDGE_SET in names:
        t0 = time.perf_counter()
        results[JUDGE_SET] = judge_figures(judge_pair_files())
        if out is not None:
            out.write(f"{JUDGE_SET}: {results[JUDGE_SET]['n_pairs']} labelled pairs in {time.perf_counter() - t0:.1f} s\n")
    return results


def render_results(results: dict[str, dict[str, Any]], baseline: dict[str, Any] | None) -> str:
    """One line per gated figure: set, figure, value, baseline value."""
    base_sets = (baseline or {}).get("sets", {})
    lines = [f"{'set':<7} {'figure':<40} {'value':>7} {'baseline':>8}"]
    for name, entry in results.items():
        base = base_sets.get(name, {}).get("figures", {})
        for key, v in entry["figures"].items():
            b = base.get(key)
            lines.append(f"{name:<7} {key:<40} {'-' if v is None else f'{v:.3f}':>7} {'-' if b is None else f'{b:.3f}':>8}")
    return "\n".join(lines)


def run_cli(args: Any, settings: Settings, *, out: Any) -> int:
    """`assistant eval` without --dataset: the gated suite; --check-baseline / --update-baseline on it."""
    import time

    only = list(args.only) if getattr(args, "only", None) else None
    allow_drop = getattr(args, "allow_drop", None)
    if args.update_baseline and (args.limit or only):
        out.write("error: --update-baseline needs a full run of every gated set; drop --limit and --only\n")
        return 2
    if allow_drop is not None and not args.update_baseline:
        out.write("error: --allow-drop only applies to --update-baseline\n")
        return 2
    if allow_drop is not None and not allow_drop.strip():
        out.write("error: --allow-drop needs a reason, e.g. --allow-drop \"judge v2 rejects paraphrases it passed\"\n")
        return 2
    t0 = time.perf_counter()
    try:
        baseline = read_baseline() if args.check_baseline or DEFAULT_BASELINE.is_file() else None
        names: list[str] | None = only
        if args.check_baseline and baseline is not None:
            names = only or list(baseline["sets"])
            unknown = sorted(set(names) - set(baseline["sets"]))
            if unknown:
                raise GateError(f"{', '.join(unknown)} not in {DEFAULT_BASELINE}; it gates {', '.join(baseline['sets'])}")
        results = run_suite(settings, names, report_root=args.report or Path("evals/results"), baseline=baseline,
                            limit=args.limit, out=out)
    except GateError as exc:
        out.write(f"error: {exc}\n")
        return 2
    out.write(render_results(results, baseline) + f"\n\ngate run: {time.perf_counter() - t0:.1f} s\n")
    if args.update_baseline:
        written, lowered = new_baseline(results, baseline, settings, allow_drop=allow_drop)
        if written is None:
            for d in lowered:
                out.write(f"WOULD LOWER {d}\n")
            out.write(f"error: refusing to lower {len(lowered)} baseline figures; if the drop is intended, "
                      f"re-run with --allow-drop \"reason\" (the reason is stored in {DEFAULT_BASELINE})\n")
            return 1
        write_baseline(written)
        for d in lowered:
            out.write(f"LOWERED {d} (allowed: {allow_drop})\n")
        out.write(f"baseline written to {DEFAULT_BASELINE}\n")
    if args.check_baseline:
        assert baseline is not None
        gated = {k: v for k, v in baseline["sets"].items() if k in results}
        failures = check(results, {**baseline, "sets": gated})
        recorded = baseline.get("settings", {})
        for key, value in recorded_settings(settings).items():
            if recorded.get(key) not in (None, value):
                out.write(f"note: the baseline was recorded with {key}={recorded[key]}; this run used {value}\n")
        for f in failures:
            out.write(f"REGRESSION {f}\n")
        out.write("baseline check: " + ("FAILED" if failures else "passed") + f" ({len(gated)} sets)\n")
        return 1 if failures else 0
    return 0
