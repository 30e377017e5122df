"""`GET /products` over a crowded index, through the real handlers on moto: a page reads at
most `search.SCAN` index entries and says where to go on; `with_total` is exact up to
`search.TOTAL_BOUND` entries, then `total_count_at_least`. One catalogue for the module,
with the bounds scaled down (`SCAN` and `PAGE` 25, not 100): seeding costs about a tenth
of a second a product (each writes its trigrams and recounts them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.catalog import search
from tests.functions.conftest import Stack, open_stack
from tests.functions.test_search_scale import every_page, get, seed


@pytest.fixture(scope="module")
def crowded() -> Iterator[Stack]:
    """60 products hold every trigram of 'zone zero'; 4 hold the phrase, all after the
    first `SCAN` entries by name. Query functions read the generation pointer afresh."""
    matching = {37, 38, 50, 59}
    with pytest.MonkeyPatch.context() as patch, open_stack(patch) as stack:
        patch.setattr("infra.generations.READER_CACHE_SECONDS", 0)
        patch.setattr(search, "SCAN", 25)
        patch.setattr(search, "PAGE", 25)
        seed(
            stack,
            {
                f"Item {n:03d}": "a zone zero" if n in matching else "a zone one zero"
                for n in range(60)
            },
        )
        yield stack


def test_a_page_reads_a_bounded_part_of_the_index_and_says_where_to_go_on(
    crowded: Stack,
) -> None:
    first = get(crowded, q="zone zero", limit="3")
    assert first["items"] == []
    assert first["next_cursor"] is not None, "more to examine: a cursor, not the end"
    names, sizes = every_page(crowded, q="zone zero", limit="3")
    assert names == ["Item 037", "Item 038", "Item 050", "Item 059"]
    assert sizes[0] == 0
    assert len(sizes) >= 3


def test_with_total_is_exact_up_to_its_bound_then_a_lower_bound(
    crowded: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = get(crowded, q="zone zero", with_total="true")
    assert (exact["total_count"], exact["total_count_at_least"]) == (4, None)
    assert get(crowded, with_total="true")["total_count"] == 60
    monkeypatch.setattr(search, "TOTAL_BOUND", 40)
    bounded = get(crowded, q="zone zero", with_total="true")
    assert bounded["total_count"] is None
    assert bounded["total_count_at_least"] == 2, "the matches among the first 40 entries"
    assert get(crowded, with_total="true")["total_count_at_least"] == 40
    assert get(crowded, q="zonk", with_total="true")["total_count"] == 0
