"""The README's commands are the ones CI runs; lint and types are part of the test command."""

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S)
    assert first_block, "README must open with a code block of commands"
    return [line for line in first_block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def test_readme_opens_with_two_commands_and_ci_runs_the_test_one() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert "assistant chat" in commands[0]
    assert "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_ruff() -> None:
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "assistant", "tests", "evals", "benchmarks"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy() -> None:
    run = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_prompts_are_files_with_the_contract() -> None:
    system = (ROOT / "prompts" / "answer_system.md").read_text(encoding="utf-8")
    assert "[n]" in system or "[2]" in system
    assert "The sources don't say" in system
    assert Path(ROOT / "prompts").is_dir()
