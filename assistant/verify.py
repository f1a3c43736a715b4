"""Pure grounding of a model's answer: check every sentence against the passage it cites.

Each sentence keeps only the citations the judge accepts; a wrongly cited sentence is
re-cited to a retrieved passage that supports it; an unsupported sentence is removed.
Quotes are verbatim passage sentences with document offsets. Every change is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from assistant.aliases import Phrase, for_judging, phrases_of
from assistant.attribution import attributed_claim, split_attributions
from assistant.chunk import split_sentences
from assistant.citations import answer_sentences, quote_citation
from assistant.judge import Verdict, judge
from assistant.lexical import content_terms, is_instruction
from assistant.types import Citation, Passage

REFUSAL = re.compile(r"^\W*the sources (?:don'?t|do not|doesn'?t) say", re.IGNORECASE)
MIN_TERMS = 2  # a sentence needs this many non-numeric content words to be checkable ("1 [1]." is not)
_BRACKET = re.compile(r"\[([^\[\]\n]{0,24})\]")
# where a sentence's main clause ends and an added clause begins: ", which …", ", signaling …", "; …", " — …"
# (not ", including …" or ", such as …": those list what the main clause is about, often the answer itself)
_CLAUSE_BREAK = re.compile(r",\s+(?=(?:which|who|whose|where|whereas|while|signaling|signalling|suggesting|meaning|"
                           r"prompting|leaving|making|adding|raising|ending|saying)\b)|,?\s+(?=because\b)|;\s+"
                           r"|\s+[—–]\s+")
MIN_HEAD_WORDS = 5  # a main clause shorter than this is a fragment, not a sentence
_END = re.compile(r"[.!?…]+[\"'”’)]*$")  # a sentence's closing punctuation
# talk about the sources instead of the claim: "The passage states that X", "According to the passage, X"
_META_LEAD = re.compile(r"^(?:(?:the|this) (?:passages?|sources?|articles?|text|context) (?:states?|says?|mentions?|notes?|"
                        r"reports?|indicates?|shows?) that|(?:according to|based on|from) (?:the )?(?:passages?|sources?|"
                        r"articles?|text|context)(?: \[\d+\])?,)\s+", re.IGNORECASE)
_NUM_LIST = re.compile(r"^\s*(?:(?:source|passage|ref\.?|doc)\s*)?\d{1,3}(?:\s*(?:[,;]|and|-|–)\s*\d{1,3})*\s*$", re.I)


@dataclass
class Grounded:
    """A verified answer: text with [n] markers 1..k, its citations, and what was changed."""

    text: str
    citations: list[Citation]
    refused: bool
    changes: list[str] = field(default_factory=list)
    kept: int = 0
    fixed: int = 0
    removed: int = 0
    too_short: int = 0  # of the removed: sentences with too little content to check ("20 points [1].")
    first_removed: str = ""

    def remove(self, sentence: str, why: str) -> None:
        """Count `sentence` as removed and say why in the changes."""
        self.removed += 1
        self.first_removed = self.first_removed or sentence
        self.changes.append(why)

    @property
    def only_too_short(self) -> bool:
        """True when sentences were removed and every one of them was too terse to check."""
        return 0 < self.removed == self.too_short

    @property
    def empty(self) -> bool:
        """True when nothing supported is left and the answer is not a refusal."""
        return not self.refused and not self.citations


def clean_markers(text: str) -> tuple[str, list[str]]:
    """Rewrite marker variants ([1,2], [1-3], [source 2]) as [n] [m]; drop junk markers like [a]."""
    changes: list[str] = []

    def fix(m: re.Match[str]) -> str:
        inner = m.group(1)
        if re.fullmatch(r"\d{1,3}", inner.strip()):
            return f"[{inner.strip()}]"
        if _NUM_LIST.match(inner):
            nums: list[int] = []
            for a, b in re.findall(r"(\d{1,3})(?:\s*[-–]\s*(\d{1,3}))?", inner):
                lo, hi = int(a), int(b or a)
                nums.extend(range(lo, hi + 1) if 0 <= hi - lo <= 10 else [lo, hi])
            return " ".join(f"[{n}]" for n in nums)
        if len(inner.strip()) <= 3 or re.fullmatch(r"\W*\w?\W*", inner):
            changes.append(f"removed malformed marker [{inner}]")
            return ""
        return m.group()

    return _BRACKET.sub(fix, text), changes


def evidence(passage: Passage) -> list[tuple[int, int]]:
    """Sentence spans of a passage that may serve as evidence (instruction-like text excluded)."""
    return [(s, e) for s, e in split_sentences(passage.text) if not is_instruction(passage.text[s:e])]


class Judged:
    """The offline judge within one answer: each (sentence, text) pair is judged once.

    A sentence meets the same texts several times (its cited passages' evidence and stored text, again when
    re-cited, their spans for the quote); the passages' analyses are cached by the judge itself. `phrases` are the
    full names of the answer's articles, so a claim may name a person as the article does elsewhere (assistant/aliases.py).
    """

    def __init__(self, phrases: frozenset[Phrase] = frozenset()) -> None:
        self.verdicts: dict[tuple[str, str], Verdict] = {}
        self.phrases = phrases

    def __call__(self, sentence: str, text: str) -> Verdict:
        """The offline judge's verdict on `sentence` against `text`."""
        key = (sentence, text)
        if key not in self.verdicts:
            self.verdicts[key] = judge(*for_judging(sentence, text, self.phrases))
        return self.verdicts[key]


def drop_meta_lead(sentence: str) -> str:
    """The sentence without an opening about the sources ("The passage states that Moscow …" -> "Moscow …")."""
    m = _META_LEAD.match(sentence)
    if not m or not sentence[m.end():]:
        return sentence
    rest = sentence[m.end():]
    return rest[0].upper() + rest[1:]


def draft_sentences(text: str) -> list[tuple[str, list[int]]]:
    """(sentence, its [n] numbers) of a draft, each without an opening about the sources."""
    return [(drop_meta_lead(s), nums) for s, nums in answer_sentences(split_attributions(text))]


def best_quote(sentence: str, passage: Passage, judged: Judged | None = None) -> tuple[int, int, Verdict] | None:
    """The passage span (one sentence, or two adjacent) that best supports `sentence`."""
    judged = judged or Judged()
    spans = evidence(passage)
    options = spans + [(a[0], b[1]) for a, b in zip(spans, spans[1:])]
    best: tuple[tuple[bool, bool, float, int], int, int, Verdict] | None = None
    for s, e in options:
        v = judged(sentence, passage.text[s:e])
        key = (v.supported, v.supported and (s, e) in spans, v.coverage, -(e - s))
        if best is None or key > best[0]:
            best = (key, s, e, v)
    return None if best is None else (best[1], best[2], best[3])


def _supported(sentence: str, evidence_text: str, passage: Passage, judged: Judged) -> bool:
    """The offline judge on the passage's evidence and on the passage as stored, both.

    Joining evidence sentences can hide a swap the whole passage shows ("Putin sent Witkoff" when Trump did).
    """
    return judged(sentence, evidence_text).supported and judged(sentence, passage.text).supported


def _cited_ok(
    sentence: str, evidence_text: str, passage: Passage, entailed: Mapping[str, bool] | None, judged: Judged
) -> bool:
    """The offline judge accepts the citation, and the LLM judge, when it gave a verdict, does too.

    The offline judge is the floor: the LLM judge may only reject more (benchmarks/results/llm_judge.json).
    """
    if entailed is not None and not entailed.get(sentence, True):
        return False
    return _supported(sentence, evidence_text, passage, judged)


def main_clause(sentence: str) -> str:
    """The sentence up to its first added clause (", which …", ", signaling …", "; …"), or "" when it has none.

    A sentence that joins a supported fact to an unsupported one ("X unveiled a plan to unsettle Kyiv, which is
    far more than …") keeps the fact: dropping a non-restrictive or participial clause never changes what the main
    clause says.
    """
    m = _CLAUSE_BREAK.search(sentence)
    head = sentence[: m.start()].rstrip() if m else ""
    return head if len(head.split()) >= MIN_HEAD_WORDS and len(content_terms(head)) >= MIN_TERMS else ""


def _cited(nums: Sequence[int], numbered: Sequence[Passage]) -> list[Passage]:
    """The passages a sentence cites (those that exist), in its order."""
    return [numbered[n - 1] for n in dict.fromkeys(nums) if 1 <= n <= len(numbered)]


def _end(sentence: str) -> str:
    """The sentence's closing punctuation ("." when it has none)."""
    m = _END.search(sentence)
    return m.group(0) if m else "."


def _with_markers(sentence: str, nums: Sequence[int]) -> str:
    tags = " ".join(f"[{n}]" for n in nums)
    m = _END.search(sentence)
    if m:
        return f"{sentence[: m.start()].rstrip()} {tags}{m.group(0)}"
    return f"{sentence} {tags}."


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def claims(text: str, numbered: Sequence[Passage]) -> list[tuple[str, list[str]]]:
    """(claim, evidence text of each passage it cites) for every sentence of a draft, as `ground` reads them.

    The claim is the sentence, or for an attributed one ("The Herald (3 June) reports five hours [1]") what it quotes.
    """
    text, _ = clean_markers(text.strip())
    out: list[tuple[str, list[str]]] = []
    for sentence, nums in draft_sentences(text):
        cited = [numbered[n - 1] for n in dict.fromkeys(nums) if 1 <= n <= len(numbered)]
        claim = attributed_claim(sentence, cited[0]) if len(cited) == 1 else None
        out.append((claim or sentence, [" ".join(p.text[s:e] for s, e in evidence(p)) for p in cited]))
    return out


def ground(
    text: str, numbered: Sequence[Passage], pool: Sequence[Passage] = (), *, entailed: Mapping[str, bool] | None = None
) -> Grounded:
    """Verify a model answer whose [n] index `numbered` (1-based); `pool` adds passages to re-cite from.

    `entailed` holds an LLM judge's verdict per sentence on the passages it cites: a sentence it finds not entailed
    loses those citations, one it finds entailed must still pass the offline judge (a floor, never overruled).
    Re-citing to another passage uses the offline judge.
    """
    text, changes = clean_markers(text.strip())
    sentences = draft_sentences(text)
    changes += [f"dropped the opening about the sources of “{_short(a, 60)}”"
                for (a, _), (b, _) in zip(answer_sentences(split_attributions(text)), sentences) if a != b]
    if sentences and REFUSAL.match(sentences[0][0]):
        refusal = sentences[0][0]
        if len(sentences) > 1 or sentences[0][1]:
            changes.append("kept only the refusal sentence, without citations")
        return Grounded(refusal, [], True, changes)
    candidates = list({p.chunk_id: p for p in [*pool, *numbered]}.values())
    evidence_text = {p.chunk_id: " ".join(p.text[s:e] for s, e in evidence(p)) for p in candidates}
    out = Grounded("", [], False, changes)
    judged = Judged(phrases_of(candidates))
    keys: dict[tuple[str, int, int], int] = {}
    parts: list[str] = []

    def cite(p: Passage, s: int, e: int) -> int:
        """The [n] of the quote p.text[s:e], numbering it on first use."""
        key = (p.chunk_id, s, e)
        if key not in keys:
            keys[key] = len(keys) + 1
            out.citations.append(quote_citation(keys[key], p, s, e))
        return keys[key]

    for i, (sentence, nums) in enumerate(sentences, start=1):
        label = f"sentence {i} (“{_short(sentence, 60)}”)"
        # "The Herald (3 June) reports five hours [1]": the claim is judged, the outlet and date are [1]'s metadata
        one = numbered[nums[0] - 1] if len(set(nums)) == 1 and 1 <= nums[0] <= len(numbered) else None
        claim = attributed_claim(sentence, one) if one is not None else None
        if claim is not None and content_terms(claim):
            assert one is not None
            if (
                (entailed is None or entailed.get(claim, True))
                and _supported(claim, evidence_text[one.chunk_id], one, judged)
                and (found := best_quote(claim, one, judged))
            ):
                parts.append(_with_markers(sentence, [cite(one, found[0], found[1])]))
                out.kept += 1
            else:
                out.remove(sentence, f"removed {label}: [{nums[0]}] does not support the attributed claim")
            continue
        if len({t for t in content_terms(sentence) if not t.isdigit()}) < MIN_TERMS:
            out.remove(sentence, f"removed {label}: too little content to check")
            out.too_short += 1
            continue
        valid: list[Passage] = []
        for n in dict.fromkeys(nums):
            if not 1 <= n <= len(numbered):
                changes.append(f"{label}: removed [{n}], no such passage")
            elif _cited_ok(sentence, evidence_text[numbered[n - 1].chunk_id], numbered[n - 1], entailed, judged):
                valid.append(numbered[n - 1])
            else:
                changes.append(f"{label}: removed [{n}], which does not support it")
        changed = len(valid) != len(set(nums))
        if not valid:
            rejected = {p.chunk_id for p in _cited(nums, numbered)} if entailed else set()
            scored = [(judged(sentence, evidence_text[p.chunk_id]), p) for p in candidates if p.chunk_id not in rejected]
            supported = [(v.coverage, -k, p) for k, (v, p) in enumerate(scored)
                         if _supported(sentence, evidence_text[p.chunk_id], p, judged)]
            if supported:
                best = max(supported, key=lambda x: (x[0], x[1]))[2]
                valid = [best]
                changes.append(f"{label}: cited “{_short(best.title, 40)}” ({best.chunk_id}) instead")
        if not valid and (head := main_clause(sentence)):
            cited_first = {p.chunk_id: p for p in [*_cited(nums, numbered), *candidates]}.values()
            valid = [p for p in cited_first if _supported(head, evidence_text[p.chunk_id], p, judged)][:1]
            if valid:
                changes.append(f"{label}: kept its supported main clause, removed the unsupported rest "
                               f"(“{_short(sentence[len(head):].lstrip(' ,;—–'), 60)}”)")
                sentence, changed = head + _end(sentence), True
        if not valid:
            out.remove(sentence, f"removed unsupported {label}")
            continue
        new_nums: list[int] = []
        for p in valid:
            found = best_quote(sentence, p, judged)
            if found is None:
                continue
            n = cite(p, found[0], found[1])
            if n not in new_nums:
                new_nums.append(n)
        parts.append(_with_markers(sentence, new_nums))
        if changed:
            out.fixed += 1
        else:
            out.kept += 1
    out.text = " ".join(parts)
    if out.fixed or out.removed:
        changes.append(f"verified {out.kept + out.fixed + out.removed} sentence(s): "
                       f"kept {out.kept}, fixed {out.fixed}, removed {out.removed}")
    return out
