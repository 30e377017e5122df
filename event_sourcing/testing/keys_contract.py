"""The contract every data-key store passes (crypto-shredding): the in-memory fake, DynamoDB
with KMS, and DynamoDB losing every ack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from event_sourcing.personal import ERASED, ErasureLog, KeyStore, PersonalData, SubjectErased


class KeyStoreContract:
    """What every `KeyStore` keeps: one key per subject, created once, gone for good once
    destroyed; and what `PersonalData` seals with it opens for that subject only.

    Subclass it in a test module with a `keys` fixture that yields the store under test
    once per variant (a fresh store each time)."""

    def test_a_subject_has_no_key_until_one_is_created(self, keys: KeyStore) -> None:
        assert keys.get("user-1") is None

    def test_a_created_key_is_read_back_the_same(self, keys: KeyStore) -> None:
        key = keys.create("user-1")
        assert len(key) == 32
        assert keys.get("user-1") == key

    def test_creating_twice_answers_the_first_key(self, keys: KeyStore) -> None:
        assert keys.create("user-1") == keys.create("user-1")

    def test_each_subject_has_its_own_key(self, keys: KeyStore) -> None:
        assert keys.create("user-1") != keys.create("user-2")

    def test_a_destroyed_key_is_gone_and_never_made_again(self, keys: KeyStore) -> None:
        keys.create("user-1")
        keys.destroy("user-1")
        assert keys.get("user-1") is None
        with pytest.raises(SubjectErased):
            keys.create("user-1")

    def test_destroying_twice_or_a_subject_without_key_is_fine(self, keys: KeyStore) -> None:
        keys.destroy("user-1")
        keys.destroy("user-1")
        assert keys.get("user-1") is None

    def test_destroying_one_subject_leaves_the_others(self, keys: KeyStore) -> None:
        kept = keys.create("user-2")
        keys.create("user-1")
        keys.destroy("user-1")
        assert keys.get("user-2") == kept

    def test_sealed_text_opens_for_its_subject_and_hides_the_clear_text(
        self, keys: KeyStore
    ) -> None:
        personal = PersonalData(keys)
        sealed = personal.seal("user-1", "ada@example.com")
        assert "ada" not in sealed
        assert personal.open(sealed) == "ada@example.com"

    def test_sealing_twice_gives_two_texts(self, keys: KeyStore) -> None:
        personal = PersonalData(keys)
        assert personal.seal("user-1", "same") != personal.seal("user-1", "same")

    def test_a_text_sealed_for_one_subject_does_not_open_for_another(self, keys: KeyStore) -> None:
        personal = PersonalData(keys)
        sealed = personal.seal("user-1", "ada@example.com")
        personal.seal("user-2", "grace@example.com")
        moved = sealed.replace("pd1:user-1:", "pd1:user-2:")
        with pytest.raises(ValueError, match="sealed for another subject"):
            personal.open(moved)

    def test_an_erased_subjects_texts_read_as_none(self, keys: KeyStore) -> None:
        personal = PersonalData(keys)
        sealed = personal.seal("user-1", "ada@example.com")
        personal.erase("user-1")
        assert personal.open(sealed) is None
        assert ERASED == "[erased]"

    def test_clear_text_from_before_sealing_is_read_as_it_is(self, keys: KeyStore) -> None:
        assert PersonalData(keys).open("ada@example.com") == "ada@example.com"


class ErasureLogContract:
    """What every `ErasureLog` keeps: each erased subject once, with the time of its first
    erasure, found again by time. Subclass it with a `log` fixture (a fresh log each time)."""

    def test_erasures_since_a_moment_are_found_oldest_first(self, log: ErasureLog) -> None:
        log.record("user-2", AT + timedelta(minutes=2))
        log.record("user-1", AT)
        log.record("user-3", AT - timedelta(days=1))
        assert log.since(AT) == [("user-1", AT), ("user-2", AT + timedelta(minutes=2))]

    def test_an_erasure_logged_twice_keeps_its_first_time(self, log: ErasureLog) -> None:
        log.record("user-1", AT)
        log.record("user-1", AT + timedelta(hours=1))
        assert log.since(AT - timedelta(days=1)) == [("user-1", AT)]

    def test_personal_data_logs_an_erasure_before_the_key_goes(
        self, log: ErasureLog, keys: KeyStore
    ) -> None:
        personal = PersonalData(keys, log, clock=lambda: AT)
        personal.seal("user-1", "ada@example.com")
        personal.erase("user-1")
        assert personal.erased_since(AT) == [("user-1", AT)]
        assert keys.get("user-1") is None


AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
