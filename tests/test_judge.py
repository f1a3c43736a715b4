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
PAIRS_V2 = ROOT / "evals" / "judge_pairs_v2.jsonl"
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
    # judge() reads negation per clause: "no details have been confirmed" does not affirm "confirmed"
    p = "Officials reportedly considered land-swap language, though no details have been confirmed."
    assert supports("Officials considered land-swap language, but nothing has been confirmed.", p)
    assert judge("Cars will return to the bridge.", "Cars will not return to the bridge.").negation_mismatch
    assert polarity("Cars will not return to the bridge.") == ({"car", "bridg"}, {"return"})
    assert negation_conflict("Cars will return to the bridge.", "Cars will not return to the bridge.")
    assert negation_conflict("Putin does not remain insulated.", "Yet he remains insulated from accountability.")
    assert not negation_conflict("Putin was not impressed.", PASSAGE)
    # a negation elsewhere in the passage does not license a negated sentence
    assert not supports("Ukrainian officials did not consider land-swap language.", PASSAGE)


COUNCIL = (
    "The council rejected the stadium plan on Tuesday after a tense, largely unproductive four-hour session; "
    "Mayor Diaz had backed it, while councillor Reyes led the opposition. The plan had 12 points and came with "
    "three annexes."
)


@pytest.mark.parametrize("sentence", [
    "The council turned down the proposal.",  # WordNet synonym of a phrasal verb
    "The council did not approve the stadium plan.",  # a negated antonym
    "Diaz had backed the plan, while Reyes led the opposition.",
    "The session lasted four hours and was largely unproductive.",
    "The plan had 12 points and came with three annexes.",
])
def test_paraphrases_that_change_the_words_are_supported(sentence: str) -> None:
    assert supports(sentence, COUNCIL), judge(sentence, COUNCIL)


@pytest.mark.parametrize(("sentence", "reason"), [
    ("The council approved the stadium plan.", "antonyms"),
    ("The session was largely productive.", "antonyms"),
    ("Reyes backed the plan while Diaz led the opposition.", "role_swaps"),
    ("Reyes had backed the plan.", "role_swaps"),
    ("The plan had 3 points and came with 12 annexes.", "number_swaps"),
    ("The session lasted 12 hours.", "number_swaps"),
    ("The council rejected the plan after a four-hour session attended by the governor.", "unsupported_run"),
    ("Mayor Lopez had backed the plan.", "missing_names"),
])
def test_realistic_errors_are_caught_for_the_right_reason(sentence: str, reason: str) -> None:
    v = judge(sentence, COUNCIL)
    assert not v.supported and getattr(v, reason), v
    assert v.reasons


def test_opposites_need_the_same_part_of_speech() -> None:
    # "present" (adjective) is WordNet's antonym of "earlier"; the verb "presented" is not
    p = "Putin's team revealed a 27-point plan, far more than the 20 points referenced days earlier."
    assert not judge("Putin's team presented a 27-point plan.", p).antonyms
    assert judge("Prices were rising quickly.", "Prices were falling quickly.").antonyms
    assert judge("Gains were rapid.", "Gains were slow.").antonyms


def test_a_name_from_elsewhere_in_the_passage_is_caught() -> None:
    p = ("Alice Moreau chaired the first meeting. It lasted two hours and ended early. "
         "Bruno Keller was elected treasurer by the members.")
    v = judge("Alice Moreau was elected treasurer by the members.", p)
    assert not v.supported and v.misplaced, v
    v = judge("Alice Moreau was elected treasurer by the members.", p.replace("It lasted two hours and ended early. ", ""))
    assert not v.supported and v.role_swaps, v
    assert supports("Bruno Keller was elected treasurer by the members.", p)


def test_similarity_can_accept_a_low_coverage_paraphrase_only_without_hard_faults() -> None:
    p = "Officials said the bridge would stay closed to cars through the winter."
    s = "The bridge stays shut to motorists for the cold season, officials said."
    assert not supports(s, p)
    assert supports(s, p, similarity=lambda a, b: 0.9)
    assert not supports("The bridge stays shut to motorists for the cold season, Reyes said.", p,
                        similarity=lambda a, b: 0.99)


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
    assert result["precision"] >= 0.9 and result["recall"] >= 0.9, result
    holdout = judge_validation([p for p in pairs if p["split"] == "holdout"])
    # the issue's bar; one of the 8 supported holdout pairs needs coreference ("Diallo" for "the winner")
    assert holdout["precision"] >= 0.85 and holdout["recall"] >= 0.8, holdout
    assert result["by_kind"]["quote"]["accuracy"] == 1.0
    assert result["by_kind"]["wrong_passage"]["accuracy"] == 1.0


@pytest.fixture(scope="module")
def pairs_v2() -> list[dict]:
    pairs = [json.loads(line) for line in PAIRS_V2.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{**p, "label": p["supported"]} for p in pairs]


def test_v2_pairs_split_tune_and_report(pairs_v2: list[dict]) -> None:
    assert len(pairs_v2) >= 280 and {p["split"] for p in pairs_v2} == {"tune", "report"}
    kinds = {p["kind"] for p in pairs_v2 if p["split"] == "report"}
    assert {"antonym", "role_swap", "number_swap", "added_claim", "wrong_entity", "answer_swap", "paraphrase",
            "verbatim"} <= kinds


def test_v2_report_split_meets_the_issue_bar(pairs_v2: list[dict]) -> None:
    """Issue 11: on the reported part, precision >= 0.9, recall >= 0.8, >= 95% of answer swaps rejected.

    The judge was tuned on the `tune` split only (python -m evals.judge_report prints the figures).
    """
    report = [p for p in pairs_v2 if p["split"] == "report"]
    result = judge_validation(report)
    assert result["precision"] >= 0.9 and result["recall"] >= 0.8, {k: result[k] for k in ("precision", "recall")}
    swaps = [p for p in report if p["kind"] == "answer_swap"]
    rejected = sum(not supports(p["sentence"], p["passage"]) for p in swaps) / len(swaps)
    assert len(swaps) >= 20 and rejected >= 0.95, rejected
    verbatim = [p for p in report if p["kind"] == "verbatim"]
    assert all(supports(p["sentence"], p["passage"]) for p in verbatim)



def test_a_reason_the_passage_does_not_give_is_an_added_claim() -> None:
    """A fact the passage states, with a cause it does not ("… because it was part of Putin's strategy")."""
    passage = ("Putin refused the plan. The Kremlin unveiled a larger, more complex proposal to unsettle Kyiv. "
               "Russia's position on the battlefield has improved.")
    fact = "The Kremlin unveiled a larger, more complex proposal to unsettle Kyiv"
    assert supports(f"{fact}.", passage)
    assert not supports(f"{fact} because it was part of Putin's strategy to maintain Russia's position in the region.",
                        passage)
    assert supports("The match was postponed because of a waterlogged pitch.",
                    "Friday's match between Ashby and Tolland was postponed because the pitch was waterlogged.")


def test_a_count_given_to_what_another_count_belongs_to_is_a_swap() -> None:
    """"The plan had 20 points" when the passage has a 27-point plan and 20 points of something else."""
    passage = ("But Putin’s team revealed a 27-point plan and four related documents — far more than the 20 points "
               "Zelensky’s team had referenced days earlier.")
    assert not supports("Putin's plan had 20 points.", passage)
    assert "20~plan" in " ".join(judge("The plan had 20 points, while Zelensky's team had referenced 27.", passage).reasons)
    assert supports("The plan contained 27 points.", passage)  # "The" opening it matches no "the" of the passage
    assert supports("Zelensky's team had referenced 20 points.", passage)
