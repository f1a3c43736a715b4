"""The `assistant` command, in process and as a real subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import main
from tests.conftest import ROOT


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_CORPUS", str(ROOT / "corpus"))
    return tmp_path


def test_ingest_json_contract(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"added", "updated", "unchanged", "removed", "skipped", "chunks_total", "documents",
                           "near_duplicates"}
    assert report["documents"] == ["putin-sends-trump-envoys-away.md"]
    assert report["added"] == 1 and report["chunks_total"] > 0
    assert main(["ingest", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["unchanged"] == 1 and again["chunks_total"] == report["chunks_total"]


def test_ingest_reports_bad_file(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = env / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7 truncated")
    assert main(["ingest", "--json", str(bad)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["skipped"] and report["skipped"][0]["path"].endswith("bad.pdf")
    assert "PDF" in report["skipped"][0]["reason"]


def test_ask_json(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "Who did Trump send to Moscow?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "Witkoff" in data["answer"] and "Kushner" in data["answer"]
    assert data["refused"] is False
    seed = (ROOT / "corpus" / "putin-sends-trump-envoys-away.md").read_text(encoding="utf-8")
    assert all(c["quote"] in seed for c in data["citations"])


def test_ask_plain_prints_sources(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "How long did the talks last?"]) == 0
    out = capsys.readouterr().out
    assert "five hours" in out and "Sources:" in out and "[1]" in out


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_exits_nonzero(env: Path, question: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", question]) == 2
    assert "question is empty" in capsys.readouterr().err


def test_bad_setting_is_named(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_TOP_K", "many")
    assert main(["ask", "Who?"]) == 2
    assert "ASSISTANT_TOP_K" in capsys.readouterr().err


def test_llm_without_server_names_the_variable(env: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ASSISTANT_LLM", "openai")
    assert main(["ask", "Who did Trump send to Moscow?"]) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err


def test_unreachable_chroma_server(env: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import free_port

    monkeypatch.setenv("ASSISTANT_CHROMA_URL", f"http://127.0.0.1:{free_port()}")
    assert main(["ask", "Who did Trump send to Moscow?"]) == 2
    err = capsys.readouterr().err
    assert "Cannot reach the Chroma server" in err and "chroma run" in err


def test_help_teaches() -> None:
    out = subprocess.run([sys.executable, "-m", "assistant", "--help"], capture_output=True, text=True, check=True).stdout
    for word in ("ingest", "ask", "chat", "eval", "ASSISTANT_CHROMA_URL", "Examples"):
        assert word in out


def test_console_script_subprocess(tmp_path: Path) -> None:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "d"), "ASSISTANT_CORPUS": str(ROOT / "corpus")}
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--json", "Who did Trump send to Moscow?"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "Witkoff" in json.loads(run.stdout)["answer"]


def test_unknown_doc_filter_is_an_error(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--doc", "nonexistent.md", "Who did Trump send to Moscow?"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "'nonexistent.md'" in lines[0] and "assistant ingest --json" in lines[0] and "Library tab" in lines[0]


def test_known_doc_filter_answers(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "--doc", "putin-sends-trump-envoys-away.md", "Who did Trump send to Moscow?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert not data["refused"] and {p["doc_id"] for p in data["passages"]} == {"putin-sends-trump-envoys-away.md"}
