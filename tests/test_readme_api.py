"""The README's Python API and LangChain examples run as written (a fake chat model stands in for the user's own)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import assistant
from tests.conftest import ROOT


def _blocks(heading: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_CORPUS", str(ROOT / "corpus"))
    monkeypatch.setattr(importlib.import_module("assistant.answer"), "_DEFAULT", None)
    return tmp_path


def test_help_lists_the_public_names() -> None:
    import pydoc

    page = pydoc.render_doc(assistant, renderer=pydoc.plaintext)
    for name in assistant.__all__:
        assert name in page, name
        assert getattr(assistant, name) is not None
    assert {"Assistant", "answer", "ingest", "Settings", "HybridRetriever", "AnswerRunnable"} <= set(assistant.__all__)
    assert "default_assistant" not in page  # internals stay out of help()


def test_python_api_example(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (code,) = _blocks("Python API")
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "five hours" in out and "Witkoff" in out


def test_langchain_examples(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compose, stream = _blocks("Use it from LangChain")
    user_model = 'model = ChatOpenAI(model="gpt-4o-mini")'
    assert user_model in compose
    fake = ("from langchain_core.language_models.fake_chat_models import FakeListChatModel\n"
            "model = FakeListChatModel(responses=['five hours [1]'])")
    seen: list[str] = []
    code = compose.replace(user_model, fake).replace("| prompt |", "| prompt | (lambda v: seen.append(v.to_string()) or v) |")
    exec(compile(code, "README.md", "exec"), {"seen": seen})
    assert capsys.readouterr().out.strip() == "five hours [1]"
    assert "five hours" in seen[0] and "[1] Putin Sends Trump" in seen[0]  # our passages reached the user's prompt
    exec(compile(stream, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "five hours" in out and "[" in out
