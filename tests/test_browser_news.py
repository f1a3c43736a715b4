"""News features in a real Chromium: outlet and date filters from the Settings tab, dated answers, source cards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import free_port
from tests.test_browser import CHROMIUM, FLAGS, WAIT_MS, ask, shot
from tests.test_news import NEWS, QUESTION

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def page(embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from assistant import Assistant, Settings, web

    assistant = Assistant(Settings(data_dir=tmp_path_factory.mktemp("news-browser") / "data", corpus_dir=NEWS),
                          embedder=embedder)
    assistant.ensure_ingested()
    app = web.create_app(assistant)
    port = free_port()
    web.launch(app, "127.0.0.1", port)
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
            pg = browser.new_page(viewport={"width": 1400, "height": 950})
            pg.set_default_timeout(WAIT_MS)
            pg.goto(url)
            pg.wait_for_selector("#question textarea")
            yield pg
            browser.close()
    finally:
        app.close()


def test_disagreement_dated_answer_and_source_cards(page: Any) -> None:
    answer = ask(page, QUESTION)
    text = answer.inner_text()
    assert "disagree" in text and "three hours" in text and "five hours" in text
    assert "As of 4 June 2025, per 2 sources" in answer.locator(".asof").inner_text()
    cards = page.locator("#sources .src")
    assert cards.count() == 2
    first = cards.nth(0).inner_text()
    assert "The Courier" in first and "4 June 2025" in first
    link = cards.nth(0).locator("a.src-url")
    assert link.get_attribute("href") == "https://courier.example/geneva"
    shot(page, "news-conflict.png")


def test_filters_from_the_settings_tab(page: Any) -> None:
    page.get_by_role("tab", name="Settings").click()
    box = page.locator("#outlet-filter input")
    box.click()
    page.get_by_role("option", name="The Herald").click()
    page.keyboard.press("Escape")
    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, QUESTION)
    text = answer.inner_text()
    assert "five hours" in text and "three hours" not in text and "disagree" not in text
    assert "As of 3 June 2025, per 1 source" in text
    assert "matching: source The Herald" in text

    page.get_by_role("tab", name="Settings").click()
    remove = "#outlet-filter .token-remove, #outlet-filter button[aria-label*='Remove'], #outlet-filter .remove-all"
    page.locator(remove).first.click()
    page.fill("#since textarea, #since input", "2025-06-04")
    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, QUESTION)
    text = answer.inner_text()
    assert "three hours" in text and "five hours" not in text and "As of 4 June 2025" in text

    page.get_by_role("tab", name="Settings").click()
    page.fill("#since textarea, #since input", "")
    page.fill("#until textarea, #until input", "2020-01-01")
    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, QUESTION)
    assert "No articles match the filters (dated 2020-01-01 or earlier)" in answer.inner_text()
    shot(page, "news-filter-nothing.png")
    page.get_by_role("tab", name="Settings").click()
    page.fill("#until textarea, #until input", "")


def test_library_shows_outlet_date_and_link(page: Any) -> None:
    page.get_by_role("tab", name="Library").click()
    table = page.locator("#library")
    table.wait_for()
    text = table.inner_text()
    assert "The Courier" in text and "2025-06-04" in text and "Coast Gazette" in text
    assert table.locator("a[href='https://herald.example/geneva-talks']").count() >= 1  # gradio also renders a hidden sizing row
    shot(page, "news-library.png")
    page.get_by_role("tab", name="Chat").click()
