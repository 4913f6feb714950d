"""The draw's rule on its own: what anyone recomputes from the published document."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from voucher_app.lottery import draw

SEED = "00" * 31 + "2a"


def ids(n: int, prefix: str = "01J") -> list[str]:
    return sorted(f"{prefix}{i:023d}" for i in range(n))


def by_hand(seed: str, entry_ids: list[str], k: int) -> list[str]:
    """The rule as DESIGN.md states it, written out plainly."""
    return sorted(entry_ids, key=lambda e: hmac.new(bytes.fromhex(seed), e.encode(), hashlib.sha256).digest())[:k]


def test_the_commitment_is_the_sha256_of_the_seed_bytes():
    seed = secrets.token_hex(32)
    assert draw.commitment(seed) == hashlib.sha256(bytes.fromhex(seed)).hexdigest()


def test_the_digest_is_of_the_sorted_ids_joined_by_newlines_and_changes_with_any_entry():
    entries = ids(5)
    digest, count = draw.entries_digest(entries)
    assert count == 5 and digest == hashlib.sha256("\n".join(entries).encode()).hexdigest()
    changed = entries[:2] + ["01JX" + entries[2][4:]] + entries[3:]
    assert draw.entries_digest(sorted(changed))[0] != digest
    assert draw.entries_digest(entries[:-1])[0] != digest
    assert draw.entries_digest([])[0] == hashlib.sha256(b"").hexdigest()


def test_winners_are_the_smallest_hmacs():
    entries = ids(500)
    won, skipped = draw.winners(SEED, ((e, "") for e in entries), 37, {})
    assert [e for e, _g in won] == by_hand(SEED, entries, 37) and skipped == []


def test_a_quota_is_filled_from_its_group_first_and_an_unfilled_quota_goes_to_everyone():
    entries = ids(300)
    elderly = set(entries[::10])  # 30 of them
    won, _ = draw.winners(SEED, ((e, "elderly" if e in elderly else "") for e in entries), 20, {"elderly": 5})
    quota = [e for e, g in won if g == "elderly"]
    assert quota == by_hand(SEED, sorted(elderly), 5)
    rest = [e for e, g in won if g == ""]
    assert rest == by_hand(SEED, [e for e in entries if e not in quota], 15)
    # Only two in the group for a quota of five: the other three join the general draw.
    few = set(entries[:2])
    won, _ = draw.winners(SEED, ((e, "elderly" if e in few else "") for e in entries), 20, {"elderly": 5})
    assert sorted(e for e, g in won if g == "elderly") == sorted(few) and len(won) == 20


def test_a_refused_candidate_is_skipped_and_the_next_takes_its_place():
    entries = ids(100)
    first = by_hand(SEED, entries, 11)
    won, skipped = draw.winners(SEED, ((e, "") for e in entries), 10, {}, lambda e: e != first[0])
    assert skipped == [first[0]] and [e for e, _g in won] == first[1:]


def test_verify_recomputes_a_document_and_finds_any_change():
    entries = ids(200)
    group = set(entries[:40])
    won, _ = draw.winners(SEED, ((e, "elderly" if e in group else "") for e in entries), 30, {"elderly": 10})
    document = {"seed": SEED, "commitment": draw.commitment(SEED), "entries": entries,
                "entries_digest": draw.entries_digest(entries)[0], "winners": [e for e, _g in won], "skipped": [],
                "tiers": [{"tier_id": "t", "vouchers": 30,
                           "quotas": [{"group": "elderly", "vouchers": 10, "entries": sorted(group)}]}]}
    assert draw.verify(document) == []
    assert draw.verify({**document, "winners": document["winners"][:-1] + [entries[-1]]})
    assert draw.verify({**document, "entries": entries[:-1]})
    assert draw.verify({**document, "seed": "11" * 32})
