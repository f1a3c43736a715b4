"""Pure conflict detection: whether the passages that answer a question give different values for it.

For each retrieved document the sentence that best answers the question is found (weighted
share of the question's terms, as the extractive answerer counts it). Two documents disagree
when their sentences give different values of the kind asked (a number, duration, date, name,
place, or yes/no by negation), or when the two sentences are the same sentence with one
phrase replaced by another (an answer-swapped copy). Documents are compared with the best
one; every document that disagrees with it becomes a claim, newest first.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from assistant import features
from assistant.chunk import split_sentences
from assistant.citations import quote_citation
from assistant.dates import human_date
from assistant.exonyms import same_place_names
from assistant.judge import judge, negation_conflict
from assistant.lexical import (
    MONTHS,
    NUMBER_WORDS,
    STOPWORDS,
    capitalized_names,
    content_terms,
    fold,
    is_instruction,
    stem,
    words,
)
from assistant.lexicon import load as load_lexicon
from assistant.polarity import opposed, poles
from assistant.types import Citation, Claim, Conflict, Passage

MIN_COVERAGE = 0.5  # share of the question's weighted terms a sentence must contain to answer it
RELATIVE_COVERAGE = 0.75  # ... and at least this share of the best sentence's coverage
ALIGNED = 0.6  # two sentences this similar (difflib ratio over words) are one sentence edited
MAX_SPAN = 8  # a replaced phrase longer than this many words is a rewrite, not a swapped value
MAX_CLAIMS = 4
_AUX = {"is", "was", "are", "were", "will", "would", "did", "does", "do", "has", "have", "had", "can", "could", "should",
        "kind", "sort", "type", "happened", "caused", "made", "makes"}
NAMED = ("person", "place", "name")  # kinds whose values are capitalised names
_Q_WORDS = {"who", "whom", "whose", "what", "when", "where", "why", "how", "which", "did", "does", "do"}
_LATEST = re.compile(r"\b(latest|now|currently|current|today|most recent|newest|still|as of)\b", re.I)
_UNIT = r"(second|minute|hour|day|week|fortnight|month|year|decade)s?"
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r"|a|an|half an?)"
_DURATION = re.compile(rf"\b{_NUM}[\s-]+{_UNIT}\b", re.I)
_FRACTION = {"half": 0.5, "quarter": 0.25, "three quarters": 0.75, "three-quarters": 0.75}
_PART = re.compile(rf"\b(three[\s-]quarters|a quarter|a half|quarter|half)\s+(?:of\s+)?an?\s+{_UNIT}\b"
                   rf"|\b{_NUM}[\s-]+{_UNIT}\s+and\s+a\s+(half|quarter)\b"
                   rf"|\b{_NUM}\s+and\s+a\s+(half|quarter)\s+{_UNIT}\b", re.I)
_WORDNUM = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
# a scale after a figure: spelled out or abbreviated after a space ("3.4 bln"), or attached ("2.5m", "3bn")
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "k": 1e3, "m": 1e6, "mn": 1e6,
           "mln": 1e6, "bn": 1e9, "bln": 1e9, "tn": 1e12, "trn": 1e12}
_ATTACHED_SCALE = r"k|m|mn|mln|bn|bln|tn|trn"
_SCALE = re.compile(rf"[\s-]+(thousand|million|billion|trillion|mn|mln|bn|bln|tn|trn)\b\.?|({_ATTACHED_SCALE})\b", re.I)
_NUMBER = re.compile(rf"\b(\d[\d,]*(?:\.\d+)?(?=(?:{_ATTACHED_SCALE})?\b)|(?:{_WORDNUM})(?:[\s-](?:{_WORDNUM}))*\b)", re.I)
# SI and common units a count may be given in: word -> (dimension, size in the dimension's base unit)
_UNITS = {w: (dim, size) for dim, table in {
    "length": {"millimetres": 1e-3, "millimetre": 1e-3, "mm": 1e-3, "centimetres": 1e-2, "centimetre": 1e-2, "cm": 1e-2,
               "metres": 1, "metre": 1, "meters": 1, "meter": 1, "kilometres": 1e3, "kilometre": 1e3,
               "kilometers": 1e3, "kilometer": 1e3, "km": 1e3, "miles": 1609.344, "mile": 1609.344},
    "mass": {"grams": 1, "gram": 1, "g": 1, "kilograms": 1e3, "kilogram": 1e3, "kilos": 1e3, "kg": 1e3,
             "tonnes": 1e6, "tonne": 1e6, "tons": 1e6, "ton": 1e6},
    "volume": {"litres": 1, "litre": 1, "liters": 1, "liter": 1, "millilitres": 1e-3, "ml": 1e-3},
    "area": {"hectares": 1e4, "hectare": 1e4, "acres": 4046.86, "acre": 4046.86},
}.items() for w, size in table.items()}
# words that give a number as an estimate: within APPROX of it is the same figure
_HEDGES = (r"about|around|some|nearly|almost|roughly|approximately|more than|over|under|less than|fewer than|"
           r"close to|up to|at least|an estimated|estimated")
_HEDGE = re.compile(rf"\b(?:{_HEDGES}|just over|just under)\s+(?:[£€$]\s?)?$", re.I)  # the words before a figure
_HEDGED = re.compile(rf"\s*(?:{_HEDGES}|just)\b", re.I)  # a figure as written that opens with them
APPROX = 0.1
_HOURS = {"second": 1 / 3600, "minute": 1 / 60, "hour": 1, "day": 24, "week": 168, "fortnight": 336, "month": 730, "year": 8760,
          "decade": 87600}
_CALENDAR = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", *MONTHS}
_DATE = re.compile(
    r"\b(?:(\d{1,2})(?:st|nd|rd|th)?\s+(" + "|".join(MONTHS) + r")\b\.?|(" + "|".join(MONTHS) + r")\.?\s+(\d{1,2})\b"
    r"|(monday|tuesday|wednesday|thursday|friday|saturday|sunday)|((?:1[89]|20)\d\d))",
    re.I,
)


# a date right after a reporting verb is when the news was told ("the ministry said on Monday")
_REPORTED = re.compile(r"\b(?:said|says|announced|confirmed|reported|added|stated|revealed|told\s+(?:\w+\s+){0,2}?\w+)"
                       r"\s+(?:(?:late|early)\s+)?(?:on\s+)?$", re.I)
# words that make "how long is/will ..." ask for a time, not a length ("how long will the bridge be")
_TIMED = re.compile(r"\b(last|lasted|take|takes|took|stay|stayed|remain|remained|run|ran|wait|serve|served|closed|shut|"
                    r"open|opened|delayed|suspended|held|expected|continue|go on|away|gone|for|since|in office|been|"
                    r"adrift|missing|trapped|stuck|detained|jailed|imprisoned|before|until)\b")
_SHARE_ASKED = re.compile(r"\b(?:proportion|percentage|per ?cent|fraction|what share)\b")
_SHARE_WORDS = {"a half": 50, "half": 50, "a third": 100 / 3, "one third": 100 / 3, "two thirds": 200 / 3, "a quarter": 25,
                "one quarter": 25, "three quarters": 75, "a fifth": 20, "one fifth": 20, "a tenth": 10, "one in four": 25,
                "one in three": 100 / 3, "one in five": 20, "one in ten": 10, "one in two": 50}
_SHARE = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(?:%|per ?cent\b)|\b(" + "|".join(
    re.escape(w).replace("\\ ", "[\\s-]") for w in sorted(_SHARE_WORDS, key=len, reverse=True)) + r")\b", re.I)
_LENGTH = re.compile(r"\b(?:metres?|meters?|kilometres?|kilometers?|km|miles?|feet|foot|ft|yards?|inches|cm|mm)\b", re.I)
_WHEN_NOUNS = "date|day|year|month|night|morning|afternoon|evening|weekend|week"
_PLACE_NOUNS = "city|country|place|venue|town|village|region|province|county|state|island|port|district|site"
# quantities a "what was the X" question asks for as a number
_QUANTITIES = ("turnout", "price", "cost", "fare", "population", "score", "rate", "budget", "total", "salary", "fine",
               "toll", "age", "attendance", "margin", "temperature", "height", "length", "distance", "speed")
_FOCUS = re.compile(r"\bwhat (?:is|was|were|are|will be|would be|has been) the (?:\w+ ){0,2}?(" + "|".join(_QUANTITIES) + r")\b")


def _focus(low_question: str) -> str:
    """The quantity a "what was the turnout/price/..." question asks for ('' when none)."""
    m = _FOCUS.search(low_question)
    return m.group(1) if m else ""


def question_kind(question: str) -> str:
    """What the question asks for: number, duration, date, person, place, yesno or thing."""
    low = fold(question).strip()
    if re.search(r"\bhow long (?:is|are|was|were|will|would)\b", low) and not _TIMED.search(low):
        return "thing"  # "how long will the bridge be": a length, not a time
    if re.search(r"\bhow long\b|\bfor how many (hours|days|weeks|months|years)\b", low):
        return "duration"
    if re.search(r"\bhow (many|much|old)\b|\bwhat (number|percentage|share|amount|proportion|fraction)\b", low) \
            or _focus(low) or (
        re.match(r"^\s*what\b", low) and re.search(r"\b(will|would|does|did|do)\b.*\bcost\b", low)
    ):
        return "number"
    if re.match(r"^\s*when\b", low) or re.search(rf"\b(what|which) ({_WHEN_NOUNS})\b", low):
        return "date"
    if re.match(r"^\s*(who|whom|whose)\b", low) or re.search(r"\bwhat (?:is|was) (?:the )?name\b", low):
        return "person"
    if re.match(r"^\s*where\b", low) or re.search(rf"\b(what|which) (?:\w+ )?({_PLACE_NOUNS})\b", low):
        return "place"
    m = re.match(r"^\s*(?:which|what)\s+(\w+)", low)
    if m and m.group(1) not in _AUX and load_lexicon().forms(m.group(1)):
        return "name"  # "which club signed ...", "which airline will fly ...": a name, or else a phrase
    if words(low)[:1] and words(low)[0] in {"is", "are", "was", "were", "do", "does", "did", "has", "have", "had",
                                             "can", "could", "will", "would"}:
        if re.search(r"\bor\b", low):  # "Did the talks last five or three hours?" asks for one of the values
            if re.search(r"\b" + _UNIT + r"\b", low):
                return "duration"
            if _DATE.search(question):
                return "date"
            if _NUMBER.search(question):
                return "number"
            return "thing"
        return "yesno"
    return "thing"


def _number(token: str) -> str:
    """A number as digits: '1,200' -> '1200', 'twenty-three' -> '23', 'two hundred' -> '200'."""
    t = fold(token).replace(",", "")
    if t in ("a", "an"):
        return "1"
    if t.startswith("half"):
        return "0.5"
    parts = re.split(r"[\s-]+", t)
    if all(p in NUMBER_WORDS for p in parts):
        total, current = 0, 0
        for p in parts:
            n = NUMBER_WORDS[p]
            if n >= 1000:
                total, current = total + max(current, 1) * n, 0
            elif n == 100:
                current = max(current, 1) * 100
            else:
                current += n
        return str(total + current)
    return t


def values(kind: str, text: str, question: str = "", attached_only: bool = True, where: bool = False) -> dict[str, str]:
    """Typed values a sentence gives for a kind of question: normalised key -> the words as written.

    For a number, only the numbers counting what the question asks about when some do (`attached_only`);
    for a place with `where`, only the names after "in", "at", "near" ... ({} when none).
    """
    found: dict[str, str] = {}
    q_low = fold(question)
    if kind == "duration":
        spans: list[tuple[int, int, float]] = []
        for m in _PART.finditer(text):  # "three-quarters of an hour", "an hour and a half", "two and a half days"
            g = m.groups()
            try:
                if g[0]:
                    hours = _FRACTION[fold(g[0]).removeprefix("a ").replace("-", " ")] * _HOURS[fold(g[1])]
                elif g[2]:
                    hours = (float(_number(g[2])) + _FRACTION[fold(g[4])]) * _HOURS[fold(g[3])]
                else:
                    hours = (float(_number(g[5])) + _FRACTION[fold(g[6])]) * _HOURS[fold(g[7])]
            except (ValueError, KeyError):
                continue
            spans.append((m.start(), m.end(), hours))
        for m in _DURATION.finditer(text):  # compared in hours: "72 hours" and "three days" agree
            if any(a <= m.start() < b for a, b, _ in spans):
                continue
            try:
                hours = float(_number(m.group(1))) * _HOURS[fold(m.group(2))]
            except ValueError:
                continue
            spans.append((m.start(), m.end(), hours))
        merged: list[tuple[int, int, float]] = []
        for start, end, hours in sorted(spans):  # "an hour and 50 minutes", "2 hours 8 minutes": one duration
            if merged and hours < merged[-1][2] and re.fullmatch(r"\s*(?:,|and|,\s*and)?\s*", text[merged[-1][1] : start]):
                merged[-1] = (merged[-1][0], end, merged[-1][2] + hours)
            else:
                merged.append((start, end, hours))
        for start, end, hours in merged:
            hedge = _HEDGE.search(text[:start])  # "almost two hours" is an estimate
            found[f"{hours:g}h"] = (hedge.group(0) if hedge else "") + text[start:end]
    elif kind == "number" and _SHARE_ASKED.search(q_low):  # "what proportion": shares only, as percentages
        for m in _SHARE.finditer(text):
            share = _SHARE_WORDS.get(fold(m.group(2) or "").replace("-", " "))
            if m.group(1):
                found[f"{float(m.group(1).replace(',', '')):g}%"] = m.group(0)
            elif share:
                found[f"{share:g}%"] = m.group(0)
    elif kind == "number":
        asked = {_number(n) for n in _NUMBER.findall(question)}
        asked_noun = re.search(r"\bhow many (?:more |new |extra )?(\w+)", fold(question))
        q_terms = {stem(asked_noun.group(1))} if asked_noun else set(content_terms(question))
        q_unit = next((_UNITS[fold(w)][0] for w in words(question) if fold(w) in _UNITS), "")
        attached: dict[str, str] = {}
        for m in _NUMBER.finditer(text):
            key = _number(m.group(1))
            after = text[m.end():]
            scale = _SCALE.match(after)
            if scale and re.fullmatch(r"\d+(?:\.\d+)?", key):  # "2.5 million" = "2,500,000" = "2.5m" = "2.5 mln"
                value = float(key) * _SCALES[(scale.group(1) or scale.group(2)).lower()]
                key = str(int(value)) if value.is_integer() else str(value)
            if fold(m.group(1)) in ("thousand", "million", "billion") and re.search(r"\d[\s-]*$", text[: m.start()]):
                continue  # the scale of the number before it
            if key == "1" and re.match(r"\s+of\b", after):
                continue  # "one of Europe's largest projects" is not a count
            if key not in asked and not re.fullmatch(r"(1[89]|20)\d\d", key):  # years are dates, not counts
                tail_text = after[scale.end():] if scale and not scale.group(0)[:1].isspace() else after
                tail = re.match(r"[\s-]+(?:(?:more|than|about|some|new|extra|additional|of|the)\s+)*([\w%]+)", tail_text)
                noun = tail.group(1) if tail and tail.group(1).lower() not in STOPWORDS else ""
                unit = _UNITS.get(fold(noun))
                if unit and re.fullmatch(r"\d+(?:\.\d+)?", key):  # "1.2 kilometres" = "1,200 metres"
                    value = float(key) * unit[1]
                    key = f"{value:.6g}"
                hedge = _HEDGE.search(text[: m.start()])
                shown = m.group(0) + (scale.group(0) if scale and not scale.group(0)[:1].isspace() else "")
                found[key] = (hedge.group(0) if hedge else "") + shown + (f" {noun}" if noun else "")
                if noun and (stem(fold(noun)) in q_terms or (unit and unit[0] == q_unit)):
                    attached[key] = found[key]
        if attached and attached_only:  # "injuring 17 people" answers "how many people", "two trams" does not
            return attached
    elif kind == "date":
        for m in _DATE.finditer(text):
            day, month, month2, day2, weekday, year = m.groups()
            if day or day2:
                key = f"{(month or month2).lower()[:3]} {int(day or day2)}"
            elif weekday:
                key = weekday.lower()
            else:
                key = year
            if weekday and re.match(rf",?\s*(?:{_DATE.pattern})", text[m.end():], re.I):
                continue  # "Thursday, June 4": the date that follows says it
            if _REPORTED.search(text[: m.start()]):
                continue  # "..., the city said on Monday": when it was said, not the date asked about
            if fold(m.group(0)) not in q_low:
                found[key] = m.group(0)
    elif kind in NAMED:
        asked = set(words(question))
        located: dict[str, str] = {}
        for m in _NAME.finditer(text):
            if m.start() == 0 and " " not in m.group(1) and load_lexicon().is_common(fold(m.group(1)).removesuffix("'s")):
                continue  # one capitalised common word opening the sentence ("Detectives"), not a name ("Belgrade")
            name_words = [w for w in words(m.group(1)) if w not in STOPWORDS and w not in asked and w not in _CALENDAR]
            before = text[max(0, m.start() - 40) : m.start()]
            if kind == "person" and (_LOCATED.search(before) or re.search(r"\b(?:from|on)\s+(?:the\s+)?$", before, re.I)):
                continue  # "a guide from Chamonix", "taken on the Aiguille Verte": a place, not the person asked for
            if name_words and fold(m.group(1)).removesuffix("'s") not in STOPWORDS:
                found[" ".join(name_words)] = m.group(1)
                if kind == "place" and _LOCATED.search(before):
                    located[" ".join(name_words)] = m.group(1)
        if where:
            return located
        if located:  # "ran aground near Vlieland", "in the city of Marseille": the place first, then other names
            return {**located, **found}
    return found


# capitalised words with the connectors inside names; "Margaret 'Peggy' Owens" is one name
_NAME = re.compile(r"\b([A-Z][\w'’\-]+(?:\s+(?:[A-Z][\w'’\-]+|(?:of|de|van|von|al|bin)\b|['‘\"“][A-Z][\w\-]+['’\"”]))*)")
_LOCATED = re.compile(r"\b(?:in|at|near|off|outside|inside|across|around)\s+(?:the\s+(?:\w+\s+){0,3}?(?:of\s+)?)?$",
                      re.I)


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _aliases(key: str, iso: str | None) -> set[str]:
    """A date key with the dates it may stand for.

    A weekday in an article of `iso` is one of the days within six days either side of it ("on Saturday"
    in an article of Tuesday 24 February: 21 or 28 February).
    """
    out = {key}
    if key in _WEEKDAYS and iso:
        try:
            day0 = _dt.date.fromisoformat(iso[:10])
        except ValueError:
            return out
        for shift in range(-6, 7):
            d = day0 + _dt.timedelta(days=shift)
            if d.weekday() == _WEEKDAYS.index(key):
                out.add(f"{MONTHS[d.month - 1][:3]} {d.day}")
    return out


def _magnitude(key: str, shown: str) -> tuple[float, float] | None:
    """A number or duration key as (value, tolerance).

    An estimate ("about", "nearly") or a rounded figure ("1.5 million" stands for 1.45-1.55 million)
    covers the figures near it.
    """
    try:
        value = float(key.removesuffix("h"))
    except ValueError:
        return None
    tol = 0.0
    if _HEDGE.search(shown.split(" ")[0] + " ") or _HEDGED.match(shown):
        tol = APPROX * value
    m = re.search(r"\d+(?:\.(\d+))?", shown)
    scale = _SCALE.match(shown[m.end():]) if m else None
    if m and scale:  # "1.5 million" is given to 0.1 million
        factor = _SCALES[(scale.group(1) or scale.group(2)).lower()]
        tol = max(tol, 0.5 * factor * 10 ** -len(m.group(1) or ""))
    return value, tol


def _unit_of(shown: str) -> str:
    m = re.search(_UNIT, shown, re.I)
    return fold(m.group(1)) if m else ""


def same(kind: str, a: tuple[str, str], b: tuple[str, str], a_iso: str | None = None, b_iso: str | None = None) -> bool:
    """True when two values (key, as written) of a kind say the same thing.

    Equal, the same date, or the same figure within its estimate or rounding; durations in different
    units within APPROX ("six weeks" and "a month and a half").
    """
    if a[0] == b[0]:
        return True
    if kind == "date":
        return bool(_aliases(a[0], a_iso) & _aliases(b[0], b_iso))
    if a[0].endswith("%") and b[0].endswith("%"):  # shares: "a third" is "33 per cent", rounded to a point
        return abs(float(a[0][:-1]) - float(b[0][:-1])) <= 1.0
    if kind in ("number", "duration"):
        ma, mb = _magnitude(*a), _magnitude(*b)
        if ma is None or mb is None:
            return False
        tol = max(ma[1], mb[1])
        if kind == "duration" and _unit_of(a[1]) != _unit_of(b[1]):
            tol = max(tol, APPROX * max(ma[0], mb[0]))
        return abs(ma[0] - mb[0]) <= tol + 1e-9
    return False


def present(kind: str, value_key: str, text: str, question: str = "", shown: str = "",
            iso: str | None = None, text_iso: str | None = None) -> bool:
    """True when `text` states the value `value_key` (a key of `values`, written `shown`) anywhere."""
    if kind in NAMED:
        return _names_overlap(_name_words(kind, value_key), set(words(text)))
    return any(same(kind, (value_key, shown or value_key), kv, iso, text_iso)
               for kv in values(kind, text, question, attached_only=False).items())


@dataclass(frozen=True)
class Found:
    """The sentence of one document that best answers the question."""

    passage: Passage
    start: int  # passage-relative span of the sentence
    end: int
    coverage: float

    @property
    def text(self) -> str:
        """The sentence as written."""
        return self.passage.text[self.start : self.end]


Similarity = Callable[[str, Sequence[str]], Sequence[float]]
SIMILAR = 0.55  # cosine similarity (question, sentence) that counts as answering it in other words
SIMILAR_MIN_COVERAGE = 0.25


def best_sentences(
    question: str, passages: Sequence[Passage], kind: str, similarity: Similarity | None = None
) -> list[Found]:
    """Per document, its sentence that best answers the question (only sentences that do), best first.

    A sentence answers when it holds MIN_COVERAGE of the question's weighted terms, or, with an
    embedding `similarity`, when it says it in other words (similarity >= SIMILAR, some terms shared).
    """
    drop = _Q_WORDS | ({"last", "take", "took"} if kind == "duration" else set())
    if re.search(r"\b(take|took|taken|taking) place\b", fold(question)):
        drop |= {stem("take"), stem("place")}  # "where will the summit take place": the verb, not a place word
    focus = stem(_focus(fold(question))) if kind == "number" else ""
    if kind == "number" and _SHARE_ASKED.search(fold(question)):  # "what proportion": a sentence says "a quarter"
        drop |= {stem(w) for w in ("proportion", "percentage", "percent", "fraction", "share")}
    if kind == "yesno":  # "did they approve": a sentence saying "rejected" answers it as well
        drop |= {stem(x) for yes, no in poles(question) for x in yes | no}
    if re.search(r"\bor\b", fold(question)) and kind in ("duration", "number", "date"):
        drop |= {stem(w) for w in words(question) if w in NUMBER_WORDS or w.isdigit() or w in MONTHS}
    terms = [t for t in dict.fromkeys(content_terms(question)) if t not in drop]
    if not terms:
        return []
    cands = features.candidates(passages)  # the extractive answerer's sentences and term weights
    spans = [(c.passage, c.start, c.end, set(c.terms)) for c in cands]
    idf = features.idf(cands, terms)
    total = sum(idf.values()) or 1.0
    names = {n for n in capitalized_names(question) if n not in _Q_WORDS}
    focused = {x[0].doc_id for x in spans if focus and focus in x[3]}
    best: dict[str, Found] = {}
    maybe: list[Found] = []
    for p, s, e, have in spans:
        if names - set(words(p.text[s:e])) - set(words(p.title)):
            continue  # about someone or somewhere else
        if p.doc_id in focused:  # "what was the turnout": in an article that gives the turnout, only its sentence answers
            if focus not in have:
                continue
            have = have | set(content_terms(p.title))  # the headline says of what
        cov = sum(idf[t] for t in terms if t in have) / total
        if kind not in ("thing", "yesno", *NAMED) and not values(kind, p.text[s:e], question):
            continue  # a sentence without a value of the kind asked does not answer it
        if cov >= MIN_COVERAGE and (p.doc_id not in best or cov > best[p.doc_id].coverage):
            best[p.doc_id] = Found(p, s, e, cov)
        elif cov >= SIMILAR_MIN_COVERAGE:
            maybe.append(Found(p, s, e, cov))
    maybe = [f for f in maybe if f.passage.doc_id not in best]
    if similarity is not None and best and maybe:
        top = max(best.values(), key=lambda f: f.coverage)
        for f, sim in zip(maybe, similarity(question, [f.text for f in maybe])):
            if sim >= SIMILAR and f.passage.doc_id not in best:
                best[f.passage.doc_id] = Found(f.passage, f.start, f.end, RELATIVE_COVERAGE * top.coverage)
    found = sorted(best.values(), key=lambda f: -f.coverage)
    if not found:
        return []
    return [f for f in found if f.coverage >= RELATIVE_COVERAGE * found[0].coverage]


def _key(text: str) -> frozenset[str]:
    """A phrase's meaning for comparison: stemmed content words, numbers as digits."""
    return frozenset(_number(w) if fold(w) in NUMBER_WORDS else stem(w) for w in words(text) if w not in STOPWORDS)


def swapped_phrase(a: str, b: str) -> tuple[str, str] | None:
    """When `b` is `a` with one phrase replaced by a different one, the two phrases; else None."""
    ta, tb = re.findall(r"\S+", a), re.findall(r"\S+", b)
    fa, fb = [fold(t).strip(".,;:!?\"'“”‘’()") for t in ta], [fold(t).strip(".,;:!?\"'“”‘’()") for t in tb]
    matcher = SequenceMatcher(None, fa, fb, autojunk=False)
    if matcher.ratio() < ALIGNED:
        return None
    changed = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    replaced = [op for op in changed if op[0] == "replace"]
    if len(replaced) != 1 or len(changed) > 2:
        return None
    _, i1, i2, j1, j2 = replaced[0]
    if i2 - i1 > MAX_SPAN or j2 - j1 > MAX_SPAN:
        return None
    pa, pb = " ".join(ta[i1:i2]), " ".join(tb[j1:j2])
    ka, kb = _key(pa), _key(pb)
    if not ka or not kb or ka == kb:
        return None
    return pa.strip(".,;:!?\"'“”‘’()"), pb.strip(".,;:!?\"'“”‘’()")


def _name_words(kind: str, key: str) -> set[str]:
    """The words that tell a name apart.

    A person's full name by the words after the first ("Ingrid Salo" is not "Ingrid Saari"); anything else by all.
    """
    ws = key.split()
    return set(ws[1:] if kind == "person" and len(ws) > 1 else ws)


def _names_overlap(a: set[str], b: set[str]) -> bool:
    """True when a name word of one side occurs in the other, also as a demonym (Kenya ~ Kenyan)."""
    return any(x == y or (min(len(x), len(y)) >= 5 and (x.startswith(y[:-1]) or y.startswith(x[:-1])))
               for x in a for y in b)


def _own(kind: str, question: str, mine: dict[str, str], other_doc: str,
         iso: str | None = None, other_iso: str | None = None) -> list[str]:
    """The values of one side that the other side's article never states, as written."""
    return [shown for key, shown in mine.items() if not present(kind, key, other_doc, question, shown, iso, other_iso)]


def disagree(kind: str, question: str, a: str, b: str, a_doc: str = "", b_doc: str = "",
             a_iso: str | None = None, b_iso: str | None = None) -> tuple[str, str] | None:
    """The two differing values when sentences `a` and `b` disagree on what is asked, else None.

    `a_doc`/`b_doc`, the retrieved text of each sentence's article: each side giving a value of the kind
    asked that the other article never states is a disagreement ("2027" against "2028", both "on Thursday").
    `a_iso`/`b_iso`, the articles' dates, tell which day a weekday is.
    """
    if kind == "place":  # "Göteborg" and "Gothenburg" are one place
        a, b, a_doc, b_doc = (same_place_names(t) for t in (a, b, a_doc, b_doc))
    va, vb = values(kind, a, question), values(kind, b, question)
    wa, wb = va, vb
    if kind == "place" and re.match(r"\s*where\b", fold(question)):  # "landed at Shannon Airport" after a flight
        wa, wb = values(kind, a, question, where=True) or va, values(kind, b, question, where=True) or vb  # "from Boston"
    if kind == "number" and any(same(kind, x, y) and (_magnitude(*x) or (0.0,))[0] >= 10
                                for x in va.items() for y in vb.items()):
        return None  # both give the figure asked for ("HK$30m" / "30 million Hong Kong dollars, or about US$3.8m");
        # not a small number both happen to hold (a 2-2 draw)
    if va and vb and a_doc and b_doc:
        own_a, own_b = _own(kind, question, wa, b_doc, a_iso, b_iso), _own(kind, question, wb, a_doc, b_iso, a_iso)
        if own_a and own_b:
            return own_a[0], own_b[0]
    if va and vb:
        if kind in NAMED:
            full_a, full_b = [k for k in va if " " in k], [k for k in vb if " " in k]
            if kind == "person" and not (a_doc and b_doc) and full_a and full_b and not _names_overlap(
                {w for k in full_a for w in k.split()}, {w for k in full_b for w in k.split()}
            ):  # two full names that share no word: two different people
                return va[full_a[0]], vb[full_b[0]]
            if not _names_overlap({w for k in va for w in _name_words(kind, k)}, {w for k in vb for w in _name_words(kind, k)}):
                return next(iter(va.values())), next(iter(vb.values()))
            swap = swapped_phrase(a, b)
            if swap and re.search(r"\b[A-Z]", swap[0]) and re.search(r"\b[A-Z]", swap[1]):
                return swap
            return None
        if not any(same(kind, x, y, a_iso, b_iso) for x in va.items() for y in vb.items()):
            return next(iter(va.values())), next(iter(vb.values()))
        return None
    if kind == "yesno" and negation_conflict(a, b) and negation_conflict(b, a):
        return "", ""
    if kind == "yesno":  # "approved" against "rejected": opposite poles of the asked verb, or WordNet antonyms
        if opposed(question, a, b) or (_asked_antonyms(question, a, b) and _asked_antonyms(question, b, a)):
            return "", ""
    swap = swapped_phrase(a, b)
    if swap and (kind in ("thing", "yesno", "name") or values(kind, swap[0], question) or values(kind, swap[1], question)):
        return swap
    return None


def _asked_antonyms(question: str, a: str, b: str) -> bool:
    """WordNet antonyms between `a` and `b` of which one is a question word or an opposite of the asked verb.

    "guilty" / "acquitted" answer "convicted?" both ways. Antonyms elsewhere in two rewritten sentences
    ("ending" / "first", "under" / "highest") are not the asked fact.
    """
    asked = {stem(t) for t in content_terms(question)} | {stem(w) for _, no in poles(question) for w in no}
    return any({stem(w) for w in pair.split("~")} & asked for pair in judge(a, b).antonyms)


@dataclass(frozen=True)
class Disputed:
    """One document's side of a disagreement."""

    found: Found
    value: str  # the words it gives for the disputed fact ('' when its whole sentence is the claim)

    @property
    def outlet(self) -> str:
        """Who published it."""
        return self.found.passage.metadata.get("outlet", "")

    @property
    def date(self) -> str | None:
        """When (ISO), if known."""
        return self.found.passage.metadata.get("date") or None


ALIGN_SIM = 0.6  # a sentence this similar (embeddings) to the best answer sentence reports the same event
ALIGN_SIM_ANSWERING = 0.5  # ... or this similar when it also holds ANSWERING of the question's terms
ANSWERING = 0.5
# a name, figure, duration or date is told in sentences of other shapes ("X will captain the team" / "the captaincy
# went to Y"; "after a five-hour stand-off" / "the incident ... lasted two and a half hours"), whose embeddings are
# further apart: such a sentence needs only this similarity when it and its article's headline hold ANSWERING of the
# question's terms (the headline says what "the incident" is)
ALIGN_SIM_NAMED = 0.4
# a sentence that holds MIN_COVERAGE of the question's terms and a figure, duration or date answers it on its own:
# it needs only this similarity to the best answer
ALIGN_SIM_TYPED = 0.4
TYPED = ("number", "duration", "date")


def _answers(question: str, sentence: str) -> bool:
    """True when the sentence holds ANSWERING of the question's content terms (unweighted), also as derived words."""
    terms = [t for t in dict.fromkeys(content_terms(question)) if t not in _Q_WORDS]
    have = set(content_terms(sentence))
    return bool(terms) and sum(_derived(t, have) for t in terms) / len(terms) >= ANSWERING


def _derived(term: str, have: set[str]) -> bool:
    """True when `have` holds the term or a word derived from it ("captain" in "captaincy", "elect" in "election")."""
    return term in have or (len(term) >= 5 and any(h.startswith(term) for h in have))


def aligned(
    question: str, passages: Sequence[Passage], kind: str, anchor: Found, have: set[str], similarity: Similarity
) -> list[tuple[float, Found]]:
    """Other documents' own report of the anchor's fact, told in other words, with its similarity, most similar first.

    For each retrieved document not in `have`, the sentence most similar to the anchor sentence that
    gives a value of the kind asked, when the similarity is at least ALIGN_SIM (ALIGN_SIM_ANSWERING
    for a sentence that also holds the question's terms).
    """
    options: list[Found] = []
    names = {n for n in capitalized_names(question) if n not in _Q_WORDS}
    said: dict[str, set[str]] = {}
    for p in passages:
        said.setdefault(p.doc_id, set()).update(words(f"{p.title} {p.text}"))
    for p in passages:
        if p.doc_id in have or any(not _names_overlap(set(n.split("-")), said[p.doc_id]) for n in names):
            continue  # an article about someone or somewhere else ("Hungarian" is said as "Hungary")
        for s, e in split_sentences(p.text):
            if len(words(p.text[s:e])) >= 4 and (kind == "yesno" or values(kind, p.text[s:e], question)):
                options.append(Found(p, s, e, 0.0))
    if not options:
        return []
    best: dict[str, tuple[float, Found]] = {}
    for f, sim in zip(options, similarity(anchor.text, [f.text for f in options])):
        ok = sim >= ALIGN_SIM or (sim >= ALIGN_SIM_ANSWERING and _answers(question, f.text)) or (
            kind in (*NAMED, *TYPED) and sim >= ALIGN_SIM_NAMED and _answers(question, f"{f.passage.title} {f.text}"))
        if ok and (f.passage.doc_id not in best or sim > best[f.passage.doc_id][0]):
            best[f.passage.doc_id] = (sim, Found(f.passage, f.start, f.end, anchor.coverage * RELATIVE_COVERAGE))
    return sorted(best.values(), key=lambda x: -x[0])


def _shown(kind: str, question: str, sentence: str, phrase: str) -> str:
    """The words to show for a swapped phrase: the whole value it belongs to ("five" -> "five hours")."""
    for shown in values(kind, sentence, question).values():
        if phrase in shown:
            return shown
    return phrase


def _other_source(a: Passage, b: Passage) -> bool:
    """Two articles of one outlet (or one encyclopedia) are parts of one source, not sources that disagree."""
    oa, ob = a.metadata.get("outlet", ""), b.metadata.get("outlet", "")
    return a.doc_id != b.doc_id and not (oa and ob and fold(oa) == fold(ob)) and not (not oa and not ob)


def twins(question: str, passages: Sequence[Passage], cited: Sequence[tuple[str, str]]) -> list[Disputed]:
    """Disagreement by edit: another document has the answer's cited sentence with one phrase replaced.

    `cited` holds (doc_id, quote) of the answer's citations. Such a twin is an answer-swapped or
    corrected copy of the same text, whatever kind of value the question asks for.
    """
    by_doc: dict[str, list[Found]] = {}
    for p in passages:
        for s, e in split_sentences(p.text):
            by_doc.setdefault(p.doc_id, []).append(Found(p, s, e, 0.0))
    for doc_id, quote in cited:
        anchor = next((f for f in by_doc.get(doc_id, []) if " ".join(f.text.split()) == " ".join(quote.split())), None)
        if anchor is None:
            continue
        sides = [Disputed(anchor, "")]
        for other_doc, sentences in by_doc.items():
            if other_doc == doc_id or not _other_source(anchor.passage, sentences[0].passage):
                continue
            for f in sentences:
                swap = swapped_phrase(anchor.text, f.text)
                if swap:
                    kind = question_kind(question)
                    if not sides[0].value:
                        sides[0] = Disputed(anchor, _shown(kind, question, anchor.text, swap[0]))
                    sides.append(Disputed(f, _shown(kind, question, f.text, swap[1])))
                    break
        if len(sides) > 1:
            return sorted(sides[:MAX_CLAIMS], key=lambda d: (d.date or "", d.found.passage.doc_id), reverse=True)
    return []


def _cited_sentence(passages: Sequence[Passage], cited: Sequence[tuple[str, str]]) -> list[Found]:
    """The sentence the answer quotes first, as the anchor to compare other articles with ([] when none)."""
    for doc_id, quote in cited[:1]:
        for p in passages:
            if p.doc_id != doc_id:
                continue
            for s, e in split_sentences(p.text):
                if " ".join(p.text[s:e].split()) == " ".join(quote.split()):
                    return [Found(p, s, e, SIMILAR_MIN_COVERAGE)]
    return []


def detect(
    question: str, passages: Sequence[Passage], cited: Sequence[tuple[str, str]] = (), similarity: Similarity | None = None
) -> list[Disputed]:
    """The documents whose answers disagree with the best one (and the best one), newest first; [] when none.

    `cited`: (doc_id, quote) of the answer's citations, checked for edited twins in other documents first.
    A passage that addresses the assistant is never set against another: article text is data.
    """
    passages = [p for p in passages if not is_instruction(p.text)]
    kind = question_kind(question)
    if re.search(r"\band (?:how|when|where|what|which|who|did|does|is|was)\b", fold(question)):
        return []  # a question that asks two things gets two different values by design
    if cited:
        edited = twins(question, passages, cited)
        if edited:
            return edited
    found = best_sentences(question, passages, kind, similarity)
    if kind == "thing" and found and re.match(r"\s*how long\b", fold(question)) and values("duration", found[0].text) \
            and not _LENGTH.search(found[0].text):  # "how long was the spacewalk": its answer is a time, not a length
        kind = "duration"
        found = best_sentences(question, passages, kind, similarity)
    if not found and similarity is not None:  # no sentence holds enough of the question's words ("new owner" /
        found = _cited_sentence(passages, cited)  # "has bought"): the answer's own sentence is the anchor
    if not found:
        return []
    anchor = found[0]
    found = [anchor, *(f for f in found[1:] if _other_source(anchor.passage, f.passage))]
    if similarity is not None:  # both must report the same event, not two facts of one kind
        focus = stem(_focus(fold(question))) if kind == "number" else ""  # both sentences give the asked quantity
        chosen: dict[str, tuple[float, Found]] = {}
        if len(found) > 1:
            for f, sim in zip(found[1:], similarity(anchor.text, [f.text for f in found[1:]])):
                if focus or sim >= ALIGN_SIM_ANSWERING or (kind in NAMED and sim >= ALIGN_SIM_NAMED) or (
                        kind in TYPED and f.coverage >= MIN_COVERAGE and sim >= ALIGN_SIM_TYPED):
                    chosen[f.passage.doc_id] = (2.0 if focus else sim, f)
        if kind != "thing":
            # an article whose best-matching sentence tells something else may still report the anchor's fact
            for sim, f in aligned(question, passages, kind, anchor, {anchor.passage.doc_id}, similarity):
                if _other_source(anchor.passage, f.passage) and sim > chosen.get(f.passage.doc_id, (0.0,))[0]:
                    chosen[f.passage.doc_id] = (sim, f)
        found = [anchor, *(f for _, f in sorted(chosen.values(), key=lambda x: -x[0]))]
    if len(found) < 2:
        return []
    doc_text: dict[str, str] = {}
    for p in passages:
        if p.text not in doc_text.get(p.doc_id, ""):
            doc_text[p.doc_id] = f"{doc_text.get(p.doc_id, '')}\n{p.text}"
    sides: list[Disputed] = []
    anchor_value = ""
    seen_values: set[frozenset[str]] = set()
    for other in found[1:]:
        pair = disagree(kind, question, anchor.text, other.text, doc_text[anchor.passage.doc_id],
                        doc_text[other.passage.doc_id], anchor.passage.metadata.get("date"),
                        other.passage.metadata.get("date"))
        if pair is None:
            continue
        anchor_value = anchor_value or pair[0]
        key = _key(pair[1]) if pair[1] else frozenset({other.passage.doc_id})
        if key in seen_values:
            continue
        seen_values.add(key)
        sides.append(Disputed(other, pair[1]))
    if not sides:
        return []
    sides.insert(0, Disputed(anchor, anchor_value))
    sides = sides[:MAX_CLAIMS]
    return sorted(sides, key=lambda d: (d.date or "", -d.found.coverage), reverse=True)


def _who(d: Disputed) -> str:
    name = d.outlet or f"“{d.found.passage.title}”"
    return f"{name} ({human_date(d.date)})" if d.date else name


def compose(question: str, sides: Sequence[Disputed], first_n: int = 1) -> tuple[str, list[Citation], Conflict]:
    """The answer that shows a disagreement: each claim with its source, date and [n], newest first."""
    citations: list[Citation] = []
    claims: list[Claim] = []
    parts: list[str] = []
    latest = bool(_LATEST.search(question)) and sides[0].date is not None
    for i, d in enumerate(sides):
        n = first_n + i
        p = d.found.passage
        citations.append(quote_citation(n, p, d.found.start, d.found.end))
        said = d.value if d.value else f"“{' '.join(d.found.text.split()).rstrip('.')}”"
        if latest and i == 0:
            parts.append(f"the most recent source, {_who(d)}, reports {said} [{n}]")
        elif latest and i == 1:
            parts.append(f"earlier, {_who(d)} reported {said} [{n}]")
        else:
            parts.append(f"{_who(d)} reports {said} [{n}]")
        claims.append(Claim(text=d.found.text, citation=n, doc_id=p.doc_id, outlet=d.outlet, date=d.date))
    body = "; ".join(parts)
    text = f"The sources disagree: {body[0].upper()}{body[1:]}."
    return text, citations, Conflict(tuple(claims))
