"""Names and pronouns read from an answer's passages (assistant/aliases.py) and their use by the verifier."""

from __future__ import annotations

from assistant.aliases import for_judging, name_phrases, resolve_pronouns, shorten_names
from assistant.types import Passage
from assistant.verify import drop_meta_lead, ground

LEAD = ("Russian President Vladimir Putin has turned away the latest US-led effort, sending home President Donald "
        "Trump’s envoys after five hours of talks.")
ENVOYS = "Trump’s special envoy Steve Witkoff traveled to Moscow. But Putin’s team revealed a 27-point plan."
INSULATED = "Putin has weathered sanctions and casualties.\n\nYet he remains insulated from accountability."
PHRASES = name_phrases([LEAD, ENVOYS, INSULATED])


def _passage(text: str, n: int) -> Passage:
    return Passage(f"d#{n}", "d", "Doc", "d.md", text, 1000 * n, 1000 * n + len(text), 1.0)


def test_full_names_are_read_without_a_leading_function_word() -> None:
    assert ("russian", "president", "vladimir", "putin") in PHRASES
    assert ("president", "donald", "trump") in PHRASES
    assert ("steve", "witkoff") in PHRASES
    assert not any(p[0] == "but" for p in PHRASES)


def test_a_name_is_written_as_the_passage_writes_it() -> None:
    assert shorten_names("Witkoff is an envoy of Donald Trump.", ENVOYS, PHRASES) == "Witkoff is an envoy of Trump."
    assert shorten_names("President Trump’s envoy went.", ENVOYS, PHRASES) == "Trump’s envoy went."
    assert shorten_names("The Russian president revealed a plan.", ENVOYS, PHRASES) == "The Putin revealed a plan."


def test_a_name_the_passages_never_join_to_the_passage_person_is_kept() -> None:
    """Swapped or invented names stay, so the judge still sees them."""
    for claim in ("Jared Witkoff traveled to Moscow.", "President Biden sent an envoy.", "Vladimir Trump sent an envoy."):
        assert shorten_names(claim, ENVOYS, PHRASES) == claim
    # "President" alone stands for Trump and Putin; a passage naming both leaves it as it is
    assert shorten_names("The President traveled.", LEAD + " " + ENVOYS, PHRASES) == "The President traveled."


def test_he_is_the_person_last_named_before_it() -> None:
    assert resolve_pronouns(INSULATED, PHRASES).endswith("Yet Putin remains insulated from accountability.")
    assert resolve_pronouns("He left.", PHRASES) == "He left."  # no one named before it
    assert for_judging("x", "y", frozenset()) == ("x", "y")


def test_verifier_accepts_another_form_of_a_name_and_still_catches_a_swap() -> None:
    lead, envoys, insulated = _passage(LEAD, 0), _passage(ENVOYS, 1), _passage(INSULATED, 2)
    pool = [lead, envoys, insulated]
    g = ground("Steve Witkoff is Donald Trump’s special envoy [1].", [envoys], pool)
    assert g.removed == 0 and g.citations[0].chunk_id == "d#1", g.changes
    g = ground("Putin remains insulated from accountability [1].", [insulated], pool)
    assert g.removed == 0, g.changes
    g = ground("Witkoff remains insulated from accountability [1].", [insulated], pool)
    assert g.empty, g.changes
    g = ground("Steve Witkoff is Vladimir Putin’s special envoy [1].", [envoys], pool)
    assert g.empty, g.changes


def test_an_opening_about_the_sources_is_dropped() -> None:
    assert drop_meta_lead("The passage states that Moscow said it had taken Pokrovsk.") == "Moscow said it had taken Pokrovsk."
    assert drop_meta_lead("According to the sources, the talks lasted five hours.") == "The talks lasted five hours."
    assert drop_meta_lead("The passage was long.") == "The passage was long."
    a = _passage("Recent claims of capturing Pokrovsk reinforce Moscow’s narrative of momentum.", 0)
    g = ground("The passage states that Moscow claimed to have captured Pokrovsk [1].", [a])
    assert g.text == "Moscow claimed to have captured Pokrovsk [1].", g.changes
    assert any("opening about the sources" in c for c in g.changes)


def test_a_surname_must_be_written_as_a_name_in_the_passage() -> None:
    """A heading "Why Putin Won" does not make "won" a surname for Putin."""
    phrases = name_phrases(["## Why Putin Won", LEAD])
    assert shorten_names("Putin won the vote.", "Trump won the vote.", phrases) == "Putin won the vote."


def test_names_are_stored_with_each_document() -> None:
    from assistant.aliases import from_text, to_text
    assert from_text(to_text(PHRASES)) == PHRASES


def test_ingest_stores_each_articles_full_names_for_the_verifier(make_assistant) -> None:  # type: ignore[no-untyped-def]
    """A passage far from the article's lead still carries "President Donald Trump", so "President Trump" verifies."""
    from assistant.aliases import NAMES_KEY, from_text, phrases_of

    bot = make_assistant()
    bot.ensure_ingested()
    passages = bot.answer("Who traveled to Moscow with a proposal Ukraine had loosely aligned with?").passages
    envoys = next(p for p in passages if "son-in-law Jared Kushner" in p.text)
    assert "President Donald" not in envoys.text
    assert ("president", "donald", "trump") in from_text(envoys.metadata[NAMES_KEY])
    g = ground("Steve Witkoff is a special envoy sent by President Trump to Moscow [1].", [envoys])
    assert g.removed == 0 and g.citations[0].chunk_id == envoys.chunk_id, g.changes
    assert ("president", "donald", "trump") in phrases_of([envoys])
    stripped = Passage(envoys.chunk_id, envoys.doc_id, envoys.title, envoys.source, envoys.text, envoys.start, envoys.end, 1.0)
    assert ground("Steve Witkoff is a special envoy sent by President Trump to Moscow [1].", [stripped]).empty
