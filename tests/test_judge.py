"""The offline support judge: unit rules, and its validated precision/recall on evals/judge_pairs.jsonl."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from assistant.judge import judge, negation_conflict, polarity, supports
from assistant.load import load_file
from assistant.metrics import judge_validation

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "evals" / "judge_pairs.jsonl"
DOC_DIRS = [ROOT / "corpus", ROOT / "tests" / "fixtures" / "multi" / "articles"]
PASSAGE = (
    "Behind closed doors, Ukrainian officials reportedly considered land-swap language, though no details "
    "have been confirmed.\n\nWhatever concessions were considered, Putin was not impressed."
)


def load_pairs() -> list[dict]:
    return [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_verbatim_and_paraphrase_are_supported() -> None:
    assert supports("Putin was not impressed.", PASSAGE)
    assert supports("Ukrainian officials reportedly considered land-swap language.", PASSAGE)
    assert supports("Putin was not impressed by the concessions Ukraine considered.", PASSAGE)  # Ukraine ~ Ukrainian


def test_numbers_and_names_must_occur() -> None:
    p = "The reservoir fell to 23 percent of its capacity, the lowest level since 1961."
    assert judge("The reservoir fell to 32 percent of its capacity.", p).missing_numbers == ("32",)
    v = judge("Officials in Brussels said the reservoir fell to 23 percent.", p)
    assert not v.supported and v.missing_names == ("brussels",)


def test_added_clause_is_unsupported() -> None:
    p = "She asked households to cut water use by 15 percent."
    assert supports("She asked households to cut water use by 15 percent.", p)
    v = judge("She asked households to cut water use by 15 percent or face heavy fines.", p)
    assert not v.supported and len(v.unsupported_run) >= 3


def test_negation_is_scoped_to_the_negated_word() -> None:
    assert polarity("Cars will not return to the bridge.") == ({"car", "bridg"}, {"return"})
    assert negation_conflict("Cars will return to the bridge.", "Cars will not return to the bridge.")
    assert negation_conflict("Putin does not remain insulated.", "Yet he remains insulated from accountability.")
    assert not negation_conflict("Putin was not impressed.", PASSAGE)
    # a negation elsewhere in the passage does not license a negated sentence
    assert not supports("Ukrainian officials did not consider land-swap language.", PASSAGE)


def test_empty_sentence_is_not_supported() -> None:
    assert not supports("", PASSAGE)


@pytest.fixture(scope="module")
def pairs() -> list[dict]:
    return load_pairs()


def test_pairs_are_a_real_labelled_set(pairs: list[dict]) -> None:
    assert len(pairs) >= 60 and len({p["id"] for p in pairs}) == len(pairs)
    kinds = Counter(p["kind"] for p in pairs)
    assert set(kinds) == {"quote", "paraphrase", "wrong_passage", "addition", "number", "negation", "name"}
    assert all(isinstance(p["label"], bool) for p in pairs)
    assert {p["split"] for p in pairs} == {"dev", "holdout"}
    texts = {}
    for folder in DOC_DIRS:
        for f in folder.iterdir():
            texts[f.name] = load_file(f, folder).text
    for p in pairs:  # every passage is a verbatim span of its article as loaded
        assert p["passage"] in texts[p["doc"]], p["id"]
    assert len({p["doc"] for p in pairs}) >= 5


def test_judge_precision_and_recall_on_pairs(pairs: list[dict]) -> None:
    """Guard the figures reported in evals/README.md (python -m evals.judge_report)."""
    result = judge_validation(pairs)
    assert result["precision"] >= 0.85 and result["recall"] >= 0.9, result
    holdout = judge_validation([p for p in pairs if p["split"] == "holdout"])
    assert holdout["precision"] >= 0.8 and holdout["recall"] >= 0.9, holdout
    assert result["by_kind"]["quote"]["accuracy"] == 1.0
    assert result["by_kind"]["wrong_passage"]["accuracy"] == 1.0
