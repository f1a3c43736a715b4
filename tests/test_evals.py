"""The eval suite end to end: datasets are valid, the golden run passes the gate, planted regressions fail it."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant import Settings
from assistant.evals import (
    DEFAULT_TOLERANCE,
    Run,
    build_report,
    check_baseline,
    load_dataset,
    run_cli,
    run_eval,
)
from assistant.load import load_file
from assistant.metrics import SUMMARY_KEYS, facts_present

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "evals" / "golden.jsonl"
BASELINE = ROOT / "evals" / "baseline.json"
SEED = ROOT / "corpus" / "putin-sends-trump-envoys-away.md"
MULTI = ROOT / "tests" / "fixtures" / "multi"


# -- the datasets ------------------------------------------------------------------------------------


def test_golden_set_shape() -> None:
    cases = load_dataset(GOLDEN)
    assert len(cases) >= 40
    assert sum(not c.answerable for c in cases) >= 10
    assert sum(1 for c in cases if c.turns or c.history) >= 5
    off_topic = [c for c in cases if not c.answerable and not c.gold_docs]
    assert off_topic and len(off_topic) < sum(not c.answerable for c in cases)  # both on- and off-topic
    for c in cases:
        if c.answerable:
            assert c.answers and c.facts and c.gold_quotes and c.gold_docs == (SEED.name,), c.id
            assert any(facts_present(c.facts, a) for a in c.answers), f"{c.id}: no gold answer has the facts"
        else:
            assert not c.answers and not c.facts and not c.gold_quotes, c.id


def test_golden_quotes_are_verbatim() -> None:
    raw = SEED.read_text(encoding="utf-8")
    loaded = load_file(SEED, SEED.parent).text
    for c in load_dataset(GOLDEN):
        for q in c.gold_quotes:
            assert q in raw and q in loaded, f"{c.id}: {q!r}"


def test_fixture_dataset_and_articles() -> None:
    articles = MULTI / "articles"
    names = {p.name for p in articles.iterdir()}
    assert 4 <= len(names) <= 6 and {Path(n).suffix for n in names} >= {".md", ".txt", ".html"}
    cases = load_dataset(MULTI / "dataset.jsonl")
    assert len(cases) >= 12 and sum(not c.answerable for c in cases) >= 3
    for c in cases:
        assert set(c.gold_docs) <= names, c.id
        for doc, q in zip(c.gold_docs, c.gold_quotes):
            assert q in load_file(articles / doc, articles).text, c.id


# -- the golden run and the gate ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def golden(embedder) -> tuple[dict[str, Any], list[Run]]:  # type: ignore[no-untyped-def]
    return run_eval(GOLDEN, ROOT / "corpus", Settings(), embedder=embedder, progress=False)


@pytest.fixture(scope="module")
def baseline() -> dict[str, Any]:
    return json.loads(BASELINE.read_text(encoding="utf-8"))


def test_golden_run_passes_the_baseline_gate(golden: tuple[dict[str, Any], list[Run]], baseline: dict[str, Any]) -> None:
    report, runs = golden
    assert set(report["summary"]) == {*SUMMARY_KEYS, "timings"}
    assert report["summary"]["n_questions"] == len(runs) == len(load_dataset(GOLDEN))
    assert baseline["tolerance"] == DEFAULT_TOLERANCE and set(baseline["summary"]) == set(SUMMARY_KEYS)
    assert check_baseline(report["summary"], baseline) == []
    assert all(not r.answer.changes for r in runs)  # the offline answers pass citation verification untouched


def test_golden_run_is_deterministic(golden: tuple[dict[str, Any], list[Run]], embedder) -> None:  # type: ignore[no-untyped-def]
    report, _ = golden
    again, _ = run_eval(GOLDEN, ROOT / "corpus", Settings(), embedder=embedder, limit=8, progress=False)
    for row_a, row_b in zip(report["questions"], again["questions"]):
        assert (row_a["answer"], row_a["citations"], row_a["metrics"]) == (row_b["answer"], row_b["citations"], row_b["metrics"])


def _rescore(runs: list[Run]) -> dict[str, Any]:
    return build_report(runs, dataset=GOLDEN.name, settings=Settings())


def test_planted_wrong_citations_fail_the_gate(golden: tuple[dict[str, Any], list[Run]], baseline: dict[str, Any]) -> None:
    """Point each answer's citations at the passages cited by a distant question's answer."""
    _, runs = golden
    answered = [r for r in runs if not r.answer.refused]
    planted = []
    for i, r in enumerate(runs):
        if r.answer.refused:
            planted.append(r)
            continue
        donor = answered[(answered.index(r) + len(answered) // 2) % len(answered)].answer
        cites = [replace(c, chunk_id=donor.citations[0].chunk_id, quote=donor.citations[0].quote) for c in r.answer.citations]
        answer = replace(r.answer, citations=cites, passages=[*r.answer.passages, *donor.passages])
        planted.append(replace(r, answer=answer))
    failures = check_baseline(_rescore(planted)["summary"], baseline)
    assert any(f.startswith("citation_recall") for f in failures)
    assert any(f.startswith("faithfulness") for f in failures)


def test_planted_no_refusals_fail_the_gate(golden: tuple[dict[str, Any], list[Run]], baseline: dict[str, Any]) -> None:
    """Switch refusals off: every refused question gets the first confident answer of the run instead."""
    _, runs = golden
    confident = next(r.answer for r in runs if not r.answer.refused)
    planted = [replace(r, answer=replace(confident, question=r.case.question)) if r.answer.refused else r for r in runs]
    failures = check_baseline(_rescore(planted)["summary"], baseline)
    assert any(f.startswith("refusal_recall") for f in failures)


def test_check_baseline_tolerance_and_missing_metrics() -> None:
    base = {"tolerance": 0.02, "summary": {"n_questions": 3, "answer_f1": 0.5, "refusal_precision": None, "hit_at_1": 1.0}}
    assert check_baseline({"answer_f1": 0.49, "hit_at_1": 1.0, "refusal_precision": None}, base) == []
    assert check_baseline({"answer_f1": 0.47, "hit_at_1": 1.0}, base) == ["answer_f1: 0.47 < baseline 0.5 - 0.02"]
    assert check_baseline({"answer_f1": 0.5, "hit_at_1": None}, base) == ["hit_at_1: None < baseline 1.0 - 0.02"]


# -- the CLI -------------------------------------------------------------------------------------------


def test_cli_eval_on_an_external_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.cli import main

    monkeypatch.chdir(tmp_path)  # relative defaults (.assistant/) would land here
    report_dir = tmp_path / "report"
    code = main(["eval", "--dataset", str(MULTI / "dataset.jsonl"), "--corpus", str(MULTI / "articles"),
                 "--report", str(report_dir)])
    assert code == 0
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert set(report["summary"]) == {*SUMMARY_KEYS, "timings"}
    assert report["summary"]["n_questions"] == len(load_dataset(MULTI / "dataset.jsonl"))
    assert report["summary"]["hit_at_5"] is not None and report["summary"]["refusal_recall"] is not None
    row = report["questions"][0]
    assert {"question", "answer", "citations", "verdicts", "metrics"} <= set(row)
    md = (report_dir / "report.md").read_text(encoding="utf-8")
    assert "| answer_accuracy |" in md and "## m01:" in md
    out = capsys.readouterr().out
    assert "citation_recall" in out and "report.json" in out
    assert not (tmp_path / ".assistant").exists()  # the user's data dir is never touched


def test_cli_eval_with_no_arguments_runs_the_golden_set_and_passes_the_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.cli import main

    monkeypatch.chdir(ROOT)  # `assistant eval` defaults: evals/golden.jsonl on corpus/, gate evals/baseline.json
    assert main(["eval", "--check-baseline", "--report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for key in SUMMARY_KEYS:
        assert key in out, key
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["n_questions"] == len(load_dataset(GOLDEN))


def _args(**kw: Any) -> argparse.Namespace:
    values = {"dataset": None, "corpus": None, "limit": None, "report": None, "check_baseline": False,
              "update_baseline": False}
    return argparse.Namespace(**{**values, **kw})


def test_cli_refuses_a_partial_baseline_and_a_foreign_baseline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    out = io.StringIO()
    assert run_cli(_args(update_baseline=True, limit=3), Settings(), out=out) == 2
    assert "full run" in out.getvalue()
    fake = {"dataset": "other.jsonl", "summary": {k: None for k in SUMMARY_KEYS}, "questions": [], "extra": {},
            "settings": {"llm": "extractive"}}
    fake["summary"]["timings"] = {}
    monkeypatch.setattr("assistant.evals.run_eval", lambda *a, **k: (fake, []))
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    assert run_cli(_args(check_baseline=True, report=tmp_path / "r"), Settings(), out=out) == 2
    assert "baseline is for golden.jsonl" in out.getvalue()
