"""The eval report's chart: per-metric bars against the baseline, and the refusal-score distribution.

matplotlib is imported here only, when a chart is drawn (about 1 s), never by the rest of the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

CHART_NAME = "report.png"


def chart_figures(figures: dict[str, Any], baseline: dict[str, Any] | None) -> list[tuple[str, float, float | None]]:
    """(metric, value, baseline value) for every figure that has a value, in report order."""
    base = baseline or {}
    return [(k, float(v), None if base.get(k) is None else float(base[k])) for k, v in figures.items() if v is not None]


def refusal_scores(questions: Sequence[dict[str, Any]]) -> tuple[list[float], list[float]] | None:
    """(scores of answerable questions, scores of unanswerable ones), or None when either side has none."""
    ok = [float(q["refusal_score"]) for q in questions if q.get("refusal_score") is not None and q["answerable"]]
    no = [float(q["refusal_score"]) for q in questions if q.get("refusal_score") is not None and not q["answerable"]]
    return (ok, no) if ok and no else None


def draw(
    path: Path, title: str, figures: dict[str, Any], baseline: dict[str, Any] | None,
    questions: Sequence[dict[str, Any]], tolerance: float,
) -> Path:
    """Write the chart PNG.

    Horizontal bars per metric (red when below baseline - tolerance) with the baseline marked and, when the
    report has refusal scores for both answerable and unanswerable questions, their histograms.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display; must precede the figure import
    from matplotlib.figure import Figure

    bars = chart_figures(figures, baseline)
    scores = refusal_scores(questions)
    height = max(3.0, 0.28 * len(bars) + 1.2)
    fig = Figure(figsize=(11 if scores else 7.5, height), dpi=100, layout="constrained")
    axes = fig.subplots(1, 2, width_ratios=[1.6, 1]) if scores else [fig.subplots(1, 1)]
    ax = axes[0]
    names = [b[0] for b in bars][::-1]
    values = [b[1] for b in bars][::-1]
    bases = [b[2] for b in bars][::-1]
    colors = ["#c0392b" if b is not None and v < b - tolerance else "#2e86c1" for v, b in zip(values, bases)]
    ys = list(range(len(names)))
    ax.barh(ys, values, color=colors, height=0.6)
    marked = [(y, b) for y, b in zip(ys, bases) if b is not None]
    if marked:
        ax.scatter([b for _, b in marked], [y for y, _ in marked], marker="|", s=220, color="black", zorder=3)
    ax.set_yticks(ys, names, fontsize=8)
    ax.set_xlim(0, 1.05)
    ax.set_xlabel(f"bars: this run; black ticks: baseline; red: below baseline - {tolerance}", fontsize=8)
    ax.set_title(title, fontsize=10)
    if scores:
        ok, no = scores
        hx = axes[1]
        bins = [i / 20 for i in range(21)] if all(0 <= s <= 1 for s in ok + no) else 20
        hx.hist(ok, bins=bins, alpha=0.6, color="#27ae60", label=f"answerable ({len(ok)})")
        hx.hist(no, bins=bins, alpha=0.6, color="#c0392b", label=f"unanswerable ({len(no)})")
        hx.set_xlabel("refusal score")
        hx.set_ylabel("questions")
        hx.set_title("refusal score by gold answerability", fontsize=10)
        hx.legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
