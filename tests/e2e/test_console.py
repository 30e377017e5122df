"""The event console (/console) of the local stack, in a real headless browser (Debian's
chromium and chromedriver, driven by selenium): a shop's streams and events with their
metadata, each projection's generation, each reader's lag, parked batches; nothing loaded
from elsewhere and no script (it works offline)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from devstack.stack import LocalStack
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Client

pytestmark = pytest.mark.e2e

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "console.png"
"""Written again when UPDATE_SCREENSHOTS=1."""


def test_the_console_shows_streams_events_generations_and_readers(
    stack: LocalStack, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    api = Client(stack.url)
    token = api.token(ADMIN_EMAIL, ADMIN_PASSWORD)
    _, product = api.new_product(token, "Lamps", "Desk lamp", "warm", "35.00")

    browser.get(stack.url + "/console")
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "Event console" in page
    for expected in ("catalog", "ordering", "product-stats", "users", "generation 1 (version 1)"):
        assert expected in page
    readers = browser.find_elements(
        By.XPATH, "//h2[.='Stream readers']/following-sibling::table[1]//tr"
    )
    names = [row.find_elements(By.TAG_NAME, "td")[0].text for row in readers[1:]]
    assert names == ["projector", "order-process"]
    projector = readers[1].find_elements(By.TAG_NAME, "td")
    assert projector[1].text != "—", "the projector's position is shown"
    assert projector[2].text.endswith(" s"), "its lag is shown"
    assert "Parked batches" in page
    assert browser.find_elements(By.TAG_NAME, "script") == []
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert [url for url in loaded if not url.startswith(stack.url)] == []

    browser.find_element(By.LINK_TEXT, "Streams").click()
    # the session's stack holds other modules' streams too: its list may run to more pages
    while not (listed := browser.find_elements(By.LINK_TEXT, f"product-{product}")):
        more = browser.find_elements(By.LINK_TEXT, "more streams")
        assert more, f"product-{product} is in no page of the streams"
        more[0].click()
    listed[0].click()
    stream = browser.find_element(By.TAG_NAME, "body").text
    assert f"Stream product-{product}" in stream
    assert "ProductCreated" in stream
    assert "correlation" in stream
    assert "causation" in stream
    assert "Desk lamp" in stream

    unknown = api.session.get(stack.url + "/console/streams/product-nobody", timeout=30)
    assert unknown.status_code == 404
    assert "No stream product-nobody has an event" in unknown.text
    # an event no signed-in user caused (a registration) names its user as "-"
    email = f"walk-in-{product}@e2e.example.com"
    created = api.call("POST", "/users", {"email": email, "password": "walk in pass"})
    user = api.session.get(f"{stack.url}/console/streams/user-{created.json()['id']}", timeout=30)
    assert "user -" in user.text
    assert "user None" not in user.text

    browser.get(stack.url + "/console")
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        browser.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.exists(), "docs/console.png: run with UPDATE_SCREENSHOTS=1"
