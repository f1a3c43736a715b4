"""The LLM support judge: one schema-constrained call per answer, with the offline judge as a floor.

The model is asked, for every answer sentence at once, to copy the words of its cited passages that state it
("evidence") and then whether they entail it, counting what a named role plainly implies (an envoy was sent).
On 90 tune pairs with the 1.5B model under the offline floor, recall went 0.80 -> 0.90 (evidence first) -> 0.95
(implied roles), precision 0.97 throughout (benchmarks/results/llm_judge_15b_tune_p0/p1/p2.json). The verifier
(assistant/verify.py) keeps a citation only when the offline judge accepts it too: the model may reject more,
never accept what the offline judge rejects (measured: benchmarks/results/llm_judge.json). Pure prompt
building and parsing; the caller sends the messages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from assistant.prompts import render

Claim = tuple[str, Sequence[str]]  # (sentence, texts of the passages it cites)
EVIDENCE_CHARS = 240  # the passage words the model copies before its verdict (it then judges what it copied)


def judge_tokens(count: int) -> int:
    """Enough tokens for `count` verdicts with their evidence."""
    return 90 * count + 20


def judge_format(count: int) -> dict[str, Any]:
    """The response_format that makes the model give exactly `count` verdicts."""
    item = {
        "type": "object",
        "properties": {"claim": {"type": "integer"}, "evidence": {"type": "string", "maxLength": EVIDENCE_CHARS},
                       "entailed": {"type": "boolean"}},
        "required": ["claim", "evidence", "entailed"],
        "additionalProperties": False,
    }
    schema = {
        "type": "object",
        "properties": {"verdicts": {"type": "array", "items": item, "minItems": count, "maxItems": count}},
        "required": ["verdicts"],
        "additionalProperties": False,
    }
    return {"type": "json_schema", "json_schema": {"name": "verdicts", "schema": schema}}


def judge_messages(claims: Sequence[Claim]) -> list[dict[str, str]]:
    """Chat messages asking whether each claim is entailed by its passages."""
    blocks = []
    for i, (sentence, passages) in enumerate(claims, start=1):
        sources = "\n".join(f"  Passage: {' '.join(p.split())}" for p in passages) or "  (no passage)"
        blocks.append(f"Claim {i}: {' '.join(sentence.split())}\n{sources}")
    return [
        {"role": "system", "content": render("judge_system")},
        {"role": "user", "content": render("judge_user", claims="\n\n".join(blocks))},
    ]


def parse_verdicts(raw: str, count: int) -> list[bool] | None:
    """The model's verdicts in claim order, or None when the reply is not usable."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    items = data.get("verdicts") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) != count:
        return None
    out: list[bool] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("entailed"), bool):
            return None
        out.append(item["entailed"])
    return out
