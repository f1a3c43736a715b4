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
from pathlib import Path
from typing import Protocol

LEASE_TTL_S = 20.0  # a lease ticket not renewed for this long has expired (its holder died)


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


class _WriterLock:
    """`hold()` for both locks, around the subclass's cross-process `_take`.

    Per-thread nesting and a per-process queue, so a write path that calls another takes it once.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._turn = threading.Lock()  # threads of one process queue here before the cross-process lock

    def _take(self, what: str, wait: bool, on_wait: OnWait | None) -> AbstractContextManager[None]:
        raise NotImplementedError

    @contextmanager
    def hold(self, what: str = "ingest", *, wait: bool = True, on_wait: OnWait | None = None) -> Iterator[None]:
        """Hold the lock for the block; `wait=False` raises WriterBusy instead of waiting.

        A nested call in the same thread just runs the block; another thread of this process
        queues for its turn (saying who holds it first), or gets WriterBusy when `wait` is False.
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
            busy = _this_process(what)
            if not wait:
                raise WriterBusy(busy)
            if on_wait:
                on_wait(busy)
            self._turn.acquire()
        try:
            with self._take(what, wait, on_wait):
                self._local.depth = 1
                try:
                    yield
                finally:
                    self._local.depth = 0
        finally:
            self._turn.release()


def _this_process(what: str) -> str:
    return busy_message(Holder(os.getpid(), socket.gethostname(), what), what)


class FileLock(_WriterLock):
    """`flock` on a file in the data directory; the file records the holder's pid and what it does."""

    def __init__(self, path: Path) -> None:
        """Lock `path` (created on first use)."""
        super().__init__()
        self.path = path

    def holder(self) -> Holder | None:
        """Who wrote the lock file last (the holder while it is locked)."""
        try:
            pid, host, what = self.path.read_text(encoding="utf-8").split("\n")[:3]
            return Holder(int(pid), host, what)
        except (OSError, ValueError):
            return None

    @contextmanager
    def _take(self, what: str, wait: bool, on_wait: OnWait | None) -> Iterator[None]:
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


class TicketBook(Protocol):
    """The lease's shared records, one ticket per contender (the Store keeps them in a Chroma collection).

    Each contender writes only its own ticket; nothing here needs compare-and-swap.
    """

    def tickets(self) -> dict[str, dict[str, str]]:
        """Every ticket, by ticket id."""

    def put(self, ticket_id: str, fields: dict[str, str]) -> None:
        """Create a ticket."""

    def touch(self, ticket_id: str, fields: dict[str, str]) -> None:
        """Update fields of a ticket that still exists (a removed ticket stays removed)."""

    def remove(self, ticket_ids: list[str]) -> None:
        """Delete tickets (missing ones are ignored)."""


CHOOSING = 0  # a ticket's number while its owner is still picking one


def _order(ticket_id: str, ticket: dict[str, str]) -> tuple[int, str]:
    return int(ticket.get("number", CHOOSING)), ticket_id


def standing(tickets: dict[str, dict[str, str]], mine: str, now: float) -> tuple[list[str], str | None]:
    """Expired ticket ids, and the live ticket that `mine` must wait for (None: `mine` holds the lease).

    Lamport's bakery over records: `mine` waits while another contender is still choosing its
    number, or while a live ticket has a lower (number, id). A ticket whose owner stopped renewing
    it (the process died) expires and counts for nobody.
    """
    expired = [t for t, f in tickets.items() if t != mine and float(f.get("expires", "0")) < now]
    live = {t: f for t, f in tickets.items() if t not in expired}
    choosing = sorted(t for t, f in live.items() if t != mine and int(f.get("number", CHOOSING)) == CHOOSING)
    if choosing:
        return expired, choosing[0]
    me = _order(mine, live[mine])
    ahead = sorted((_order(t, f), t) for t, f in live.items() if t != mine and _order(t, f) < me)
    return expired, ahead[0][1] if ahead else None


class _LeaseLost(RuntimeError):
    """The caller's ticket vanished while it waited (it was stalled past the TTL): it must queue again."""


class Lease(_WriterLock):
    """A lease over a Chroma server: each contender's ticket, ordered like Lamport's bakery.

    Chroma has no compare-and-swap, so no record is ever contended: a taker adds its own ticket
    (choosing), reads every live ticket, sets its number to one more than the highest, and holds
    the lease once no other contender is still choosing and no live ticket has a lower
    (number, id). Two takers can both pick the same number only while both were choosing, and the
    id breaks that tie the same way for both, so at most one holds at a time. Tickets are renewed
    every ttl/4 while waiting and holding; a ticket not renewed for ttl (its process died) expires
    and is removed by whoever sees it. Hosts' clocks must agree to well within the ttl.
    """

    def __init__(self, book: TicketBook, ttl: float | None = None) -> None:
        """Keep tickets in `book`; tickets are renewed every ttl/4."""
        super().__init__()
        self.book = book
        self.ttl = ttl or LEASE_TTL_S
        self.poll_s = 0.2

    @staticmethod
    def _holder(ticket: dict[str, str] | None) -> Holder | None:
        if not ticket:
            return None
        return Holder(int(ticket.get("pid", "0")), ticket.get("host", "?"), ticket.get("what", "ingest"))

    @contextmanager
    def _take(self, what: str, wait: bool, on_wait: OnWait | None) -> Iterator[None]:
        told: list[bool] = []
        while True:
            mine = uuid.uuid4().hex
            stop = threading.Event()
            renewer = threading.Thread(target=self._renew, args=(mine, stop), name="writer-lease", daemon=True)
            self.book.put(mine, {"pid": str(os.getpid()), "host": socket.gethostname(), "what": what,
                                 "number": str(CHOOSING), "expires": self._expiry()})
            renewer.start()
            try:
                self._queue(mine, what, wait, on_wait, told)
            except _LeaseLost:  # stalled past the ttl while waiting: our ticket was removed, queue again
                self._drop(mine, stop, renewer)
                continue
            except BaseException:
                self._drop(mine, stop, renewer)
                raise
            try:
                yield
            finally:
                self._drop(mine, stop, renewer)
            return

    def _queue(self, mine: str, what: str, wait: bool, on_wait: OnWait | None, told: list[bool]) -> None:
        """Take a number and wait for our turn (returns holding the lease)."""
        tickets = self._live(mine)
        number = 1 + max((int(f.get("number", CHOOSING)) for f in tickets.values()), default=CHOOSING)
        self.book.touch(mine, {"number": str(number), "expires": self._expiry()})
        while True:
            tickets = self.book.tickets()
            if mine not in tickets:
                raise _LeaseLost(mine)
            expired, ahead = standing(tickets, mine, time.time())
            if expired:
                self.book.remove(expired)
            if ahead is None:
                return
            choosing = int(tickets[ahead].get("number", CHOOSING)) == CHOOSING
            if not choosing:
                message = busy_message(self._holder(self._first(tickets, expired)), what)
                if not wait:
                    raise WriterBusy(message)
                if on_wait and not told:
                    on_wait(message)
                    told.append(True)
            time.sleep(self.poll_s)

    def _live(self, mine: str) -> dict[str, dict[str, str]]:
        tickets = self.book.tickets()
        expired, _ = standing(tickets, mine, time.time()) if mine in tickets else ([], None)
        if expired:
            self.book.remove(expired)
        return {t: f for t, f in tickets.items() if t not in expired}

    @staticmethod
    def _first(tickets: dict[str, dict[str, str]], expired: list[str]) -> dict[str, str] | None:
        """The ticket that holds (or is next to hold) the lease: the live one with the lowest number."""
        numbered = [(_order(t, f), t) for t, f in tickets.items()
                    if t not in expired and int(f.get("number", CHOOSING)) != CHOOSING]
        return tickets[min(numbered)[1]] if numbered else None

    def _expiry(self) -> str:
        return f"{time.time() + self.ttl:.3f}"

    def _renew(self, mine: str, stop: threading.Event) -> None:
        while not stop.wait(self.ttl / 4):
            try:
                self.book.touch(mine, {"expires": self._expiry()})
            except Exception:  # noqa: BLE001 - a missed renewal is retried; the ticket expires only after ttl
                pass

    def _drop(self, mine: str, stop: threading.Event, renewer: threading.Thread) -> None:
        stop.set()
        renewer.join()
        try:
            self.book.remove([mine])
        except Exception:  # noqa: BLE001 - it expires by itself
            pass
