"""Pure date helpers: publication dates from front matter, HTML or PDF metadata as ISO dates."""

from __future__ import annotations

import datetime as dt
import email.utils
import re

_MONTHS = {
    m: i
    for i, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
         ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")],
        start=1,
    )
    for m in names
}
_ISO = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T\s].*)?$")
_PDF = re.compile(r"^\s*D?:?(\d{4})(\d{2})(\d{2})")  # PDF dates: D:YYYYMMDDHHmmSS+hh'mm'
_DAY_MONTH = re.compile(r"^\s*(?:\w+,?\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\b")
_MONTH_DAY = re.compile(r"^\s*(?:\w+,?\s+)?([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_DMY_NUM = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{4})\s*$")


def iso_date(value: object) -> str | None:
    """A publication date as 'YYYY-MM-DD', or None when it cannot be read.

    Reads ISO dates and timestamps, PDF dates (D:20250604...), RFC 2822 dates, '4 June 2025',
    'June 4, 2025' and day-first numeric dates (4/6/2025, as newspapers outside the US write them).
    """
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value or "").strip().strip("'\"")
    if not text:
        return None
    for pattern, order in ((_ISO, "ymd"), (_PDF, "ymd"), (_DMY_NUM, "dmy")):
        m = pattern.match(text)
        if m:
            a, b, c = (int(g) for g in m.groups())
            return _make(*((a, b, c) if order == "ymd" else (c, b, a)))
    m = _DAY_MONTH.match(text)
    if m and m.group(2).lower() in _MONTHS:
        return _make(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
    m = _MONTH_DAY.match(text)
    if m and m.group(1).lower() in _MONTHS:
        return _make(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.date().isoformat() if parsed else None


def _make(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def date_int(iso: str | None) -> int | None:
    """'2025-06-04' -> 20250604 (what chunk metadata stores for range queries), None when undated."""
    if not iso or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso):
        return None
    return int(iso.replace("-", ""))


def parse_filter_date(text: str, what: str = "date") -> str:
    """A YYYY-MM-DD filter bound from the user, as ISO; raises ValueError naming the bad value."""
    value = (text or "").strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) or _make(*(int(x) for x in value.split("-"))) is None:
        raise ValueError(f"{what} must be a date written YYYY-MM-DD (got {text!r})")
    return value


def human_date(iso: str | None) -> str:
    """'2025-06-04' -> '4 June 2025' (unchanged when not an ISO date)."""
    if not iso:
        return ""
    try:
        d = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{d.day} {d.strftime('%B')} {d.year}"
