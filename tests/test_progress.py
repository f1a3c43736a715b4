"""Plain ingest progress lines when no terminal shows a bar (cron, CI, `| tee`)."""

import io
import re
import shutil
from pathlib import Path

import pytest

from assistant.progress import LineProgress, duration, progress_line
from tests.conftest import CORPUS


def test_line_has_done_total_chunks_rate_eta() -> None:
    line = progress_line(30, 120, 255, 10.0)
    assert line == "ingest: 30/120 files, 255 chunks written, 3.0 files/s, 10s elapsed, ETA 30s"
    assert "ETA unknown" in progress_line(0, 10, 0, 5.0)
    assert duration(185) == "3m 05s" and duration(7620) == "2h 07m"


def test_at_most_one_line_per_interval() -> None:
    now = [0.0]
    out = io.StringIO()
    bar = LineProgress(100, stream=out, interval=10.0, clock=lambda: now[0])
    for _ in range(39):  # 39 files over 19.5 s, one every 0.5 s: one line, at 10 s
        now[0] += 0.5
        bar.update(1, chunks=3)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ingest: 20/100 files, 60 chunks written, 2.0 files/s")
    now[0] += 10.0
    bar.update(61, chunks=1)  # the last file: the command's own summary follows, no line
    assert len(out.getvalue().splitlines()) == 1


def test_cli_ingest_without_terminal_prints_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from assistant import progress
    from assistant.cli import main

    articles = tmp_path / "articles"
    articles.mkdir()
    base = (CORPUS / "putin-sends-trump-envoys-away.md").read_text(encoding="utf-8")
    for i in range(3):
        (articles / f"a{i}.md").write_text(base.replace("Putin", f"Putin{i}"), encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_INGEST_BATCH_CHARS", "1")  # one commit per file, so progress moves per file
    monkeypatch.setattr(progress, "INTERVAL_S", 0.0)
    assert main(["ingest", str(articles)]) == 0  # capsys: stderr is not a terminal
    err = capsys.readouterr().err.splitlines()
    lines = [x for x in err if x.startswith("ingest: ")]
    assert lines, err
    assert all(re.fullmatch(r"ingest: \d/3 files, \d+ chunks written, [\d.]+ files/s, \d+s elapsed, ETA \S+( \S+)?", x)
               for x in lines), lines
    assert "\r" not in "".join(err)  # no tqdm bar redraws in a log
    shutil.rmtree(tmp_path / "data")
