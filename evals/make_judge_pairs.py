"""Build support-judge validation pairs from public text (squad-dev13), deterministically.

    python -m evals.make_judge_pairs [--squad DIR] [--out evals/judge_pairs_v2.jsonl] [--seed 13]

Every pair is a sentence from a squad-dev13 paragraph that contains a gold answer, and a passage of 1-3
sentences around it (the sentence and its neighbours). Kinds, labelled by construction:

- verbatim (true): the sentence itself.
- paraphrase (true): the sentence with a fronted phrase moved to the end ("In 1957, ABC ..." ->
  "ABC ... in 1957.") and/or words replaced from a small list of meaning-preserving synonyms.
- answer_swap (false): the gold answer replaced by another of the same kind (same wh-word and shape: year, date,
  money, percent, number, name) taken from the passage when it has one (another gold answer of the article found
  in the passage, or a span of the same shape), else another gold answer of the article.
- role_swap (false): two named entities of the sentence exchanged (the article's name answers and multi-word
  capitalised spans), not when they are only listed ("X, Y and Z") or in a symmetric relation ("X met Y").
- number_swap (false): two different numbers of the same class (year/other, same currency) exchanged, not the
  two ends of a range such as "1900 to 1910".
- antonym (false): one word replaced by its opposite from a small lexicon (increased/decreased, first/last,
  won/lost, more/less, north/south, ...).

The split follows evals/dev_split.json: pairs from `tune` articles get "tune", from `report` articles "report".
Hand-written lines already in the output file (`"source": "hand"`) are kept unchanged, first.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQUAD = ROOT.parent.parent / "shared" / "data" / "squad-dev13"
if not DEFAULT_SQUAD.is_dir():
    DEFAULT_SQUAD = Path("/work/shared/data/squad-dev13")
SPLIT = ROOT / "evals" / "dev_split.json"
OUT = ROOT / "evals" / "judge_pairs_v2.jsonl"

# pairs per split and kind (fewer when the pool is smaller); about 40% true
QUOTA = {"verbatim": 40, "paraphrase": 60, "answer_swap": 60, "role_swap": 40, "number_swap": 25, "antonym": 25}
TRUE_KINDS = {"verbatim", "paraphrase"}

_ABBREV = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "st",
    "jr",
    "sr",
    "no",
    "vs",
    "c",
    "ca",
    "inc",
    "ltd",
    "co",
    "gen",
    "col",
    "lt",
    "u.s",
    "e.g",
    "i.e",
}
_MONTHS = "January February March April May June July August September October November December".split()
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_NOT_ENTITY = set(_MONTHS + _DAYS) | {
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "It",
    "He",
    "She",
    "They",
    "We",
    "I",
    "This",
    "That",
    "These",
    "Those",
    "His",
    "Her",
    "Its",
    "Their",
    "There",
    "However",
    "After",
    "Before",
    "During",
    "Although",
    "While",
    "When",
    "As",
    "By",
    "For",
    "From",
    "With",
    "Since",
    "Following",
    "Despite",
    "Some",
    "Many",
    "Most",
    "Both",
    "Each",
    "According",
}
_FRONTED = re.compile(
    r"^(In|On|During|After|Before|By|Since|From|Following|Despite|At|Under|Within|Throughout|Until|Upon|Over)\s+"
    r"([^,;:]{2,70}),\s+(.+?)([.!?])$"
)
_ACCORDING = re.compile(r"^(.+?),\s+(according to [^,;:]{2,60})([.!?])$")
SYNONYMS = {
    "approximately": "about",
    "began": "started",
    "begun": "started",
    "commenced": "began",
    "purchased": "bought",
    "numerous": "many",
    "constructed": "built",
    "frequently": "often",
    "currently": "at present",
    "largest": "biggest",
    "assist": "help",
    "attempted": "tried",
    "obtained": "got",
    "obtain": "get",
    "due to": "because of",
    "was known as": "was called",
    "is known as": "is called",
    "died": "passed away",
    "completed": "finished",
    "required": "needed",
    "requires": "needs",
    "prior to": "before",
    "subsequently": "later",
    "initially": "at first",
    "primarily": "mainly",
    "chiefly": "mainly",
    "demonstrated": "showed",
    "permitted": "allowed",
    "individuals": "people",
    "entire": "whole",
    "rapidly": "quickly",
    "nearly": "almost",
    "famous": "well-known",
    "selected": "chosen",
    "attended": "went to",
    "stated": "said",
    "resides": "lives",
    "resided": "lived",
    "in order to": "to",
    "a number of": "several",
    "received": "was given",
}
_ANTONYM_PAIRS = [
    ("increased", "decreased"),
    ("increase", "decrease"),
    ("increasing", "decreasing"),
    ("rose", "fell"),
    ("rising", "falling"),
    ("more", "less"),
    ("larger", "smaller"),
    ("largest", "smallest"),
    ("higher", "lower"),
    ("highest", "lowest"),
    ("first", "last"),
    ("before", "after"),
    ("earlier", "later"),
    ("won", "lost"),
    ("successful", "unsuccessful"),
    ("accepted", "rejected"),
    ("supported", "opposed"),
    ("major", "minor"),
    ("strong", "weak"),
    ("stronger", "weaker"),
    ("longest", "shortest"),
    ("longer", "shorter"),
    ("older", "younger"),
    ("oldest", "youngest"),
    ("above", "below"),
    ("north", "south"),
    ("east", "west"),
    ("northern", "southern"),
    ("eastern", "western"),
    ("public", "private"),
    ("positive", "negative"),
    ("maximum", "minimum"),
    ("majority", "minority"),
    ("possible", "impossible"),
    ("popular", "unpopular"),
    ("legal", "illegal"),
    ("able", "unable"),
    ("allowed", "forbidden"),
    ("same", "different"),
    ("early", "late"),
    ("best", "worst"),
    ("better", "worse"),
    ("many", "few"),
    ("large", "small"),
    ("high", "low"),
    ("increases", "decreases"),
]
ANTONYMS = {a: b for a, b in _ANTONYM_PAIRS} | {b: a for a, b in _ANTONYM_PAIRS}
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:,\d{3})*(?:\.\d+)?(?!\w)")
_ENTITY = re.compile(r"[A-Z][\w’'\-.]*[\w](?:\s+(?:of\s+(?:the\s+)?|de\s+|von\s+)?[A-Z][\w’'\-]*[\w])*")
_CLAUSE = re.compile(r"[,;:(\[]|\b(and|but|or|while|which|who|where|when|whereas|because|although|after|before|until)\b")
TYPED_WH = {"how many", "how much", "how long", "what year", "which year", "when", "where", "whose", "whom", "who"}
_FUNCTION_WORDS = {"and", "or", "the", "of", "a", "an", "to", "in", "at", "on", "as", "well", "nor", "both", "either"}
_SYMMETRIC = {
    "and",
    "with",
    "met",
    "friend",
    "friends",
    "married",
    "against",
    "versus",
    "vs",
    "alongside",
    "together",
    "partner",
    "partners",
    "between",
    "both",
    "similar",
    "like",
    "rival",
    "rivals",
    "or",
}
_COORD = {"and", "or", ",", "&", "and the", ", and", "or the", "to", "-", "–", "and/or", "nor"}


@dataclass(frozen=True)
class Source:
    """One sentence holding a gold answer, with its passage window and provenance."""

    article: str
    doc: str
    sentence: str
    passage: str
    answer: str
    akey: tuple[str, str]


def body(path: Path) -> str:
    """The text of a Markdown file without its front matter."""
    text = path.read_text(encoding="utf-8")
    if text.startswith("---"):
        text = text.split("---", 2)[2]
    return text.strip()


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences (period, question or exclamation mark before a capital or quote)."""
    out: list[str] = []
    start = 0
    for m in re.finditer(r"[.!?](?:\[[^\]]{1,40}\])?[\"”’)]?\s+(?=[A-Z\"“(])", text):
        before = text[start : m.start()].split()
        last = before[-1].lower().rstrip(".") if before else ""
        if last in _ABBREV or (len(last) == 1 and last.isalpha()):
            continue
        out.append(text[start : m.end()].strip())
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def answer_key(question: str, answer: str) -> tuple[str, str]:
    """What kind of thing an answer is: the question's wh-word and the answer's shape."""
    q = question.lower()
    wh = next(
        (
            w
            for w in ("how many", "how much", "how long", "what year", "which year", "when", "where", "whose", "whom", "who")
            if re.search(rf"\b{w}\b", q)
        ),
        "what",
    )
    a = answer.strip()
    if re.fullmatch(r"1\d{3}|20\d{2}", a):
        shape = "year"
    elif any(m in a for m in _MONTHS):
        shape = "date"
    elif "$" in a or "dollar" in a.lower():
        shape = "money"
    elif "%" in a or "percent" in a.lower():
        shape = "percent"
    elif re.fullmatch(r"[\d,.]+", a):
        shape = "number"
    elif re.search(r"\d", a):
        shape = "number+" + a.split()[-1].lower()
    elif a[:1].isupper() and all(w[:1].isupper() for w in a.split() if w.lower() not in {"of", "the", "and", "de", "von"}):
        shape = "name"
    else:
        shape = "phrase"
    return wh, shape


def load_sources(squad: Path) -> list[Source]:
    """One Source per distinct (sentence, answer) of the answerable questions, in file order."""
    texts: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    out: list[Source] = []
    for line in (squad / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if not row.get("answerable") or not row.get("gold_docs"):
            continue
        doc = row["gold_docs"][0]
        if doc not in texts:
            texts[doc] = sentences(body(squad / "articles" / doc))
        sents = texts[doc]
        for answer in row["answers"]:
            hit = next((i for i, s in enumerate(sents) if answer in s), None)
            if hit is None or len(answer) < 2:
                continue
            if (sents[hit], answer) in seen:
                break
            seen.add((sents[hit], answer))
            lo, hi = max(0, hit - 1), min(len(sents), hit + 2)
            out.append(
                Source(row["article"], doc, sents[hit], " ".join(sents[lo:hi]), answer, answer_key(row["question"], answer))
            )
            break
    return out


def paraphrase(sentence: str) -> str | None:
    """A meaning-preserving rewrite (fronted phrase moved, synonyms), or None when no template applies."""
    s = sentence
    changed = False
    m = _FRONTED.match(s)
    if m and len(m.group(3).split()) <= 25 and not _CLAUSE.search(m.group(3)):
        rest = m.group(3)
        s = f"{rest[0].upper()}{rest[1:]} {m.group(1).lower()} {m.group(2)}{m.group(4)}"
        changed = True
    else:
        m2 = _ACCORDING.match(s)
        if m2:
            main = m2.group(1)
            if main.split()[0] in _NOT_ENTITY - set(_MONTHS + _DAYS):
                main = main[0].lower() + main[1:]
            s = f"{m2.group(2)[0].upper()}{m2.group(2)[1:]}, {main}{m2.group(3)}"
            changed = True
    for word, repl in SYNONYMS.items():
        pattern = re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)
        m3 = pattern.search(s)
        if m3:
            r = repl[0].upper() + repl[1:] if m3.group(0)[0].isupper() else repl
            s = s[: m3.start()] + r + s[m3.end() :]
            changed = True
    return s if changed and s != sentence else None


def _same_shape_spans(passage: str, key: tuple[str, str], names: list[str]) -> list[str]:
    """Spans of the passage of the same shape as an answer (years, dates, amounts, counts, names)."""
    wh, shape = key
    month = "|".join(_MONTHS)
    patterns = {
        "year": r"(?<![\w,.])(?:1\d{3}|20\d{2})(?![\w])",
        "date": rf"(?:\d{{1,2}} )?(?:{month})(?: \d{{1,2}})?(?:,? \d{{4}})?",
        "money": r"\$\d[\d,.]*(?: (?:million|billion|thousand))?",
        "percent": r"\d[\d,.]*(?:%| percent| per cent)",
        "number": r"(?<![\w,.$])\d+(?:,\d{3})*(?:\.\d+)?(?![\w%])",
    }
    if shape.startswith("number+"):
        unit = shape.split("+", 1)[1]
        return re.findall(rf"(?<![\w,.])\d[\d,.]* {re.escape(unit)}\b", passage)
    if shape == "name" and wh in {"who", "whom", "whose", "where"}:
        return [text for _, _, text in _entities(passage, names)]
    if shape in patterns:
        found = re.findall(patterns[shape], passage)
        return [f for f in found if not (shape == "number" and re.fullmatch(r"1\d{3}|20\d{2}", f))]
    return []


def answer_swap(
    src: Source, pool: dict[tuple[str, tuple[str, str]], list[str]], names: list[str], rng: random.Random
) -> str | None:
    """The sentence with its answer replaced by another of the same kind: from the passage if it has one, else the article."""
    wh, shape = src.akey
    if shape == "phrase" or (wh not in TYPED_WH and shape == "name"):
        return None  # free phrases and "what" names mix too many kinds of thing to swap honestly

    def fits(a: str) -> bool:
        return (
            a != src.answer
            and a not in src.sentence
            and src.answer not in a
            and not set(a.lower().split()) & set(src.answer.lower().split())
        )

    article = [a for a in pool[(src.article, src.akey)] if fits(a)]
    in_passage = sorted(
        {a for a in article if a in src.passage} | {a for a in _same_shape_spans(src.passage, src.akey, names) if fits(a)}
    )
    if not (in_passage or article):
        return None
    pick = rng.choice(in_passage or sorted(article))
    new = src.sentence.replace(src.answer, pick, 1)
    return new if new not in src.passage else None


def _entities(sentence: str, names: list[str]) -> list[tuple[int, int, str]]:
    """Spans of the article's name answers in the sentence, plus other multi-word capitalised spans."""
    spans: list[tuple[int, int, str]] = []
    for name in sorted(names, key=len, reverse=True):
        if name not in sentence:
            continue
        m = re.search(rf"(?<![\w-])(?<![A-Z]\w )(?<![A-Z]\w\w )(?<![A-Z]\w\w\w ){re.escape(name)}(?![\w-])(?! [A-Z])", sentence)
        if m and not any(a < m.end() and m.start() < b for a, b, _ in spans):
            spans.append((m.start(), m.end(), name))
    for m in _ENTITY.finditer(sentence):
        words = m.group(0).rstrip(".").split()
        while words and words[0] in _NOT_ENTITY:
            words = words[1:]
        if len(words) < 2:
            continue
        text = " ".join(words)
        start = sentence.index(text, m.start())
        if not any(a < start + len(text) and start < b for a, b, _ in spans):
            spans.append((start, start + len(text), text))
    return sorted(spans)


def role_swap(sentence: str, passage: str, names: list[str], rng: random.Random) -> str | None:
    """The sentence with two named entities exchanged (not two coordinated ones)."""
    ents = _entities(sentence, names)
    options = []
    for i in range(len(ents)):
        for j in range(i + 1, len(ents)):
            (a0, a1, a), (b0, b1, b) = ents[i], ents[j]
            between = sentence[a1:b0].strip().lower()
            words = set(re.findall(r"\b[a-z]+\b", between))
            if a == b or a in b or b in a or not words - _FUNCTION_WORDS or words & _SYMMETRIC:
                continue  # a list ("X, Y and Z") or a symmetric relation ("X met Y") keeps its meaning
            options.append((a0, a1, a, b0, b1, b))
    if not options:
        return None
    a0, a1, a, b0, b1, b = rng.choice(options)
    new = sentence[:a0] + b + sentence[a1:b0] + a + sentence[b1:]
    return new if new != sentence and new not in passage else None


def _num_class(sentence: str, start: int, num: str) -> tuple[str, str]:
    year = "year" if re.fullmatch(r"1\d{3}|20\d{2}", num) else "other"
    return year, sentence[start - 1 : start] if start and sentence[start - 1] in "$£€" else ""


def number_swap(sentence: str, passage: str, rng: random.Random) -> str | None:
    """The sentence with two different numbers exchanged (not the two ends of a range)."""
    nums = [(m.start(), m.end(), m.group(0)) for m in _NUMBER.finditer(sentence)]
    options = []
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            (a0, a1, a), (b0, b1, b) = nums[i], nums[j]
            between = sentence[a1:b0].strip().lower()
            if a == b or between in _COORD or between in {"and", "to", "-", "–", "or", "through"}:
                continue
            if _num_class(sentence, a0, a) != _num_class(sentence, b0, b):
                continue  # a year for a count, or pounds for a plain number, is garbage rather than a realistic error
            options.append((a0, a1, a, b0, b1, b))
    if not options:
        return None
    a0, a1, a, b0, b1, b = rng.choice(options)
    new = sentence[:a0] + b + sentence[a1:b0] + a + sentence[b1:]
    return new if new not in passage else None


def antonym(sentence: str, passage: str, rng: random.Random) -> str | None:
    """The sentence with one word turned into its opposite."""
    hits = [
        m
        for m in re.finditer(r"\b[a-z]+\b", sentence)
        if m.group(0) in ANTONYMS and not re.search(r"\b(no|any|much|even)\s+$", sentence[: m.start()])
    ]
    if not hits:
        return None
    m = rng.choice(hits)
    new = sentence[: m.start()] + ANTONYMS[m.group(0)] + sentence[m.end() :]
    return new if new not in passage else None


def build(squad: Path, seed: int) -> list[dict[str, object]]:
    """All squad pairs, quota-sampled per split and kind, in a stable order."""
    split = json.loads(SPLIT.read_text(encoding="utf-8"))
    split_of = {a: "tune" for a in split["tune"]} | {a: "report" for a in split["report"]}
    sources = load_sources(squad)
    pool: dict[tuple[str, tuple[str, str]], list[str]] = defaultdict(list)
    for s in sources:
        if s.answer not in pool[(s.article, s.akey)]:
            pool[(s.article, s.akey)].append(s.answer)
    names: dict[str, list[str]] = defaultdict(list)
    for (article, (_, shape)), answers in sorted(pool.items()):
        if shape == "name":
            names[article] += [a for a in answers if len(a) >= 3 and a not in names[article]]
    rng = random.Random(seed)
    cands: dict[tuple[str, str], list[tuple[str, Source]]] = defaultdict(list)
    used_sentence: set[tuple[str, str]] = set()
    for s in sources:
        part = split_of[s.article]
        made = {
            "verbatim": s.sentence,
            "paraphrase": paraphrase(s.sentence),
            "answer_swap": answer_swap(s, pool, names[s.article], rng),
            "role_swap": role_swap(s.sentence, s.passage, names[s.article], rng),
            "number_swap": number_swap(s.sentence, s.passage, rng),
            "antonym": antonym(s.sentence, s.passage, rng),
        }
        for kind, sent in made.items():
            if sent and re.match(r"[A-Z0-9\"“‘']", sent) and (kind, sent) not in used_sentence and 4 <= len(sent.split()) <= 80:
                used_sentence.add((kind, sent))
                cands[(part, kind)].append((sent, s))
    rows: list[dict[str, object]] = []
    for part in ("tune", "report"):
        for kind, quota in QUOTA.items():
            pick = cands[(part, kind)]
            chosen = sorted(rng.sample(range(len(pick)), min(quota, len(pick))))
            for k in chosen:
                sent, s = pick[k]
                rows.append(
                    {
                        "sentence": sent,
                        "passage": s.passage,
                        "supported": kind in TRUE_KINDS,
                        "kind": kind,
                        "source": "squad",
                        "split": part,
                    }
                )
    for i, row in enumerate(rows, start=1):
        row["id"] = f"s{i:04d}"
    return [{"id": r["id"], **{k: v for k, v in r.items() if k != "id"}} for r in rows]


def main(argv: list[str] | None = None) -> int:
    """Rewrite the squad lines of the output file; keep its hand-written lines."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)
    hand: list[str] = []
    if args.out.exists():
        hand = [
            ln for ln in args.out.read_text(encoding="utf-8").splitlines() if ln.strip() and json.loads(ln)["source"] == "hand"
        ]
    rows = build(args.squad, args.seed)
    lines = hand + [json.dumps(r, ensure_ascii=False) for r in rows]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stdout.write(f"{args.out}: {len(hand)} hand + {len(rows)} squad pairs\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
