"""One writer at a time per store, across processes: a flock'd file (folder store) or a lease (Chroma server).

Readers never take it. A lock held by a process that dies is released by the kernel (flock) or
expires (lease), so a killed writer never blocks the next one for long.
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

LEASE_TTL_S = 20.0  # a lease not renewed for this long is taken over
SETTLE_S = 0.25  # a new lease is re-read after this long: the last writer of two racing takers wins


class WriterBusy(RuntimeError):
    """Another writer holds the store and the caller asked not to wait."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the writer lock."""

    pid: int
    host: str
    what: str

    def describe(self) -> str:
        """'pid N' (or 'pid N on host' for another machine)."""
        here = self.host == socket.gethostname()
        return f"pid {self.pid}" + ("" if here else f" on {self.host}")


def busy_message(holder: Holder | None, what: str) -> str:
    """The one line a waiting (or refused) writer prints."""
    who = f" ({holder.describe()})" if holder else ""
    return f"waiting for another {holder.what if holder else what}{who} to finish…"


OnWait = Callable[[str], None]


class _Reentrant:
    """Per-thread nesting and a per-process queue, so a write path that calls another takes the lock once."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._turn = threading.Lock()  # threads of one process queue here before the cross-process lock

    @contextmanager
    def reenter(self, take: Callable[[], AbstractContextManager[object]], busy: str, *, wait: bool,
                on_wait: OnWait | None) -> Iterator[None]:
        """Run the block holding `take()`, entered only by a thread's outermost call.

        A nested call in the same thread just runs the block; another thread of this process
        queues for its turn (saying `busy` first), or gets WriterBusy when `wait` is False.
        """
        depth = int(getattr(self._local, "depth", 0))
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        if not self._turn.acquire(blocking=False):
            if not wait:
                raise WriterBusy(busy)
            if on_wait:
                on_wait(busy)
            self._turn.acquire()
        try:
            with take():
                self._local.depth = 1
                try:
                    yield
                finally:
                    self._local.depth = 0
        finally:
            self._turn.release()


def _this_process(what: str) -> str:
    return busy_message(Holder(os.getpid(), socket.gethostname(), what), what)


class FileLock:
    """`flock` on a file in the data directory; the file records the holder's pid and what it does."""

    def __init__(self, path: Path) -> None:
        """Lock `path` (created on first use)."""
        self.path = path
        self._nest = _Reentrant()

    def holder(self) -> Holder | None:
        """Who wrote the lock file last (the holder while it is locked)."""
        try:
            pid, host, what = self.path.read_text(encoding="utf-8").split("\n")[:3]
            return Holder(int(pid), host, what)
        except (OSError, ValueError):
            return None

    @contextmanager
    def hold(self, what: str = "ingest", *, wait: bool = True, on_wait: OnWait | None = None) -> Iterator[None]:
        """Hold the lock for the block; `wait=False` raises WriterBusy instead of waiting."""
        take = partial(self._flock, what, wait, on_wait)
        with self._nest.reenter(take, _this_process(what), wait=wait, on_wait=on_wait):
            yield

    @contextmanager
    def _flock(self, what: str, wait: bool, on_wait: OnWait | None) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                message = busy_message(self.holder(), what)
                if not wait:
                    raise WriterBusy(message) from None
                if on_wait:
                    on_wait(message)
                fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel if its holder dies
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n{socket.gethostname()}\n{what}\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the flock


class LeaseRecord(Protocol):
    """Reads and writes the one lease record (the Store provides it over a Chroma collection)."""

    def read(self) -> dict[str, str] | None:
        """The current lease, or None."""

    def write(self, lease: dict[str, str]) -> None:
        """Replace the lease."""

    def clear(self, token: str) -> None:
        """Remove the lease if `token` still holds it."""


class Lease:
    """A lease in the shared store: holder id and expiry, renewed while held, taken over once expired.

    Chroma has no compare-and-swap, so a taker writes its lease, waits SETTLE_S and reads it back:
    of two takers racing, only the one whose write landed last sees itself and goes ahead.
    """

    def __init__(self, record: LeaseRecord, ttl: float | None = None) -> None:
        """Use `record` for the lease; a holder renews it every ttl/4."""
        self.record = record
        self.ttl = ttl or LEASE_TTL_S
        self._nest = _Reentrant()

    def _holder(self, lease: dict[str, str] | None) -> Holder | None:
        if not lease:
            return None
        return Holder(int(lease.get("pid", "0")), lease.get("host", "?"), lease.get("what", "ingest"))

    def _free(self, lease: dict[str, str] | None) -> bool:
        return lease is None or float(lease.get("expires", "0")) < time.time()

    @contextmanager
    def hold(self, what: str = "ingest", *, wait: bool = True, on_wait: OnWait | None = None) -> Iterator[None]:
        """Hold the lease for the block; `wait=False` raises WriterBusy instead of waiting."""
        take = partial(self._lease, what, wait, on_wait)
        with self._nest.reenter(take, _this_process(what), wait=wait, on_wait=on_wait):
            yield

    @contextmanager
    def _lease(self, what: str, wait: bool, on_wait: OnWait | None) -> Iterator[None]:
        token = uuid.uuid4().hex
        told = False
        while True:
            current = self.record.read()
            if self._free(current) or (current or {}).get("token") == token:
                mine = {"token": token, "pid": str(os.getpid()), "host": socket.gethostname(), "what": what,
                        "expires": str(time.time() + self.ttl)}
                self.record.write(mine)
                time.sleep(SETTLE_S)
                if (self.record.read() or {}).get("token") == token:
                    break
                continue
            if not wait:
                raise WriterBusy(busy_message(self._holder(current), what))
            if on_wait and not told:
                on_wait(busy_message(self._holder(current), what))
                told = True
            time.sleep(0.2)
        stop = threading.Event()
        lost: list[str] = []

        def renew() -> None:
            while not stop.wait(self.ttl / 4):
                try:
                    self.record.write({**mine, "expires": str(time.time() + self.ttl)})
                except Exception as exc:  # noqa: BLE001 - the holder finds out when it writes next
                    lost.append(str(exc))

        renewer = threading.Thread(target=renew, name="writer-lease", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            try:
                self.record.clear(token)
            except Exception:  # noqa: BLE001 - it expires by itself
                pass
