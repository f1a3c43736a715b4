"""Plain progress lines for ingest when no terminal shows a progress bar (cron, CI, `| tee`)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

INTERVAL_S = 10.0  # at most one line this often


def duration(seconds: float) -> str:
    """A short human duration: 45s, 3m 05s, 2h 07m."""
    s = int(round(max(seconds, 0.0)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def progress_line(done: int, total: int, chunks: int, elapsed: float) -> str:
    """One progress line: files done / total, chunks written, rate and ETA."""
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = duration((total - done) / rate) if rate > 0 else "unknown"
    return (f"ingest: {done:,}/{total:,} files, {chunks:,} chunks written, {rate:.1f} files/s, "
            f"{duration(elapsed)} elapsed, ETA {eta}")


class LineProgress:
    """A stand-in for ingest's tqdm bar that prints `progress_line` at most every `interval` seconds.

    Thread-safe: the ingest writer thread updates it too.
    """

    def __init__(
        self, total: int, *, stream: TextIO | None = None, interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.done = 0
        self.chunks = 0
        self._stream = stream
        self._interval = INTERVAL_S if interval is None else interval
        self._clock = clock
        self._start = self._last = clock()
        self._lock = threading.Lock()

    def update(self, n: int = 1, chunks: int = 0) -> None:
        """Count `n` more files done (and `chunks` written); print a line when the interval has passed."""
        with self._lock:
            self.done += n
            self.chunks += chunks
            now = self._clock()
            if now - self._last >= self._interval and self.done < self.total:
                self._last = now
                self._print(progress_line(self.done, self.total, self.chunks, now - self._start))

    def set_postfix_str(self, text: str) -> None:
        """Ignore the per-file label a tqdm bar shows."""

    def close(self) -> None:
        """Nothing to clear (the command prints its own summary)."""

    def _print(self, line: str) -> None:
        stream = self._stream or sys.stderr
        print(line, file=stream, flush=True)  # noqa: T201
