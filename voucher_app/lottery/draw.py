"""The draw itself: a rule anyone can recompute from the published data, and nothing else.

Why it can be trusted without trusting the bureau
-------------------------------------------------
1. When entries open, the round publishes ``commitment`` = SHA-256 of a secret 32-byte seed chosen at
   publishing. The seed cannot be changed afterwards without the commitment showing it.
2. When entries close, it publishes ``entries_digest`` = SHA-256 of the sorted entry ids joined by
   newlines. The entries cannot be changed afterwards (one id more, less or different changes it).
3. At the draw it reveals the seed. Every entry's rank is HMAC-SHA256(key = the seed's bytes,
   message = the entry id in UTF-8); the smallest digests win. The seed was fixed before anyone
   entered and the entries before anyone saw the seed, so neither side could steer the outcome.

Per tier, each reserved quota still in force at the draw is filled first from its group's entries
(smallest digests first); the tier's other vouchers — plus any quota its group did not fill — go to
all remaining entries of the tier, smallest digests first. An entry that may not hold another voucher
any more at the draw (its person reached the campaign's limit meanwhile) is passed over and named in
``skipped``; the next digest takes its place.

``winners`` streams the entries once and keeps only heaps as large as the vouchers to give, so a
round of a million entries is drawn in bounded memory. ``verify`` recomputes a published document.
"""
from __future__ import annotations

import hashlib
import heapq
import hmac
from collections.abc import Callable, Iterable

ALGORITHM = ("commitment = SHA-256(seed bytes); entries_digest = SHA-256(sorted entry ids joined by '\\n'); "
             "rank = HMAC-SHA256(key=seed bytes, msg=entry id UTF-8), smallest first; per tier, each reserved "
             "quota is filled from its group's entries first, the remaining vouchers (with any unfilled quota) "
             "from all other entries of the tier; skipped entries are passed over")


def commitment(seed_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest()


def entries_digest(sorted_ids: Iterable[str]) -> tuple[str, int]:
    """The digest of the entry ids (already sorted) joined by newlines, and how many there were."""
    digest, count = hashlib.sha256(), 0
    for entry_id in sorted_ids:
        digest.update((b"\n" if count else b"") + entry_id.encode())
        count += 1
    return digest.hexdigest(), count


def ranker(seed_hex: str) -> Callable[[str], bytes]:
    key = bytes.fromhex(seed_hex)
    return lambda entry_id: hmac.digest(key, entry_id.encode(), "sha256")  # OpenSSL's one-shot HMAC


def candidates(seed_hex: str, entries: Iterable[tuple[str, str]], vouchers: int,
               quotas: dict[str, int]) -> tuple[dict[str, list[str]], list[str]]:
    """The entries that can win one tier, in rank order: per group with a quota, and overall.

    ``entries`` yields (entry id, group or ''), once; ``vouchers`` is how many the tier gives in all,
    ``quotas`` how many of them each group's reserved quota holds. Only heaps as large as the
    vouchers (and a margin for skipped entries) are kept, whatever the number of entries.
    """
    rank = ranker(seed_hex)
    spare = max(16, vouchers // 50)
    best_of_group: dict[str, list] = {group: [] for group in quotas}
    best: list = []  # max-heaps of the smallest ranks: (-rank as int, id)
    keep_all = vouchers + sum(quotas.values()) + spare
    for entry_id, group in entries:
        item = (-int.from_bytes(rank(entry_id), "big"), entry_id)
        if group in best_of_group:
            _keep(best_of_group[group], item, quotas[group] + spare)
        _keep(best, item, keep_all)
    in_order = lambda heap: [entry_id for _key, entry_id in sorted(heap, reverse=True)]  # noqa: E731
    return {group: in_order(heap) for group, heap in best_of_group.items()}, in_order(best)


def choose(of_group: dict[str, list[str]], overall: list[str], vouchers: int, quotas: dict[str, int],
           may_win: Callable[[str], bool] = lambda entry_id: True) -> tuple[list[tuple[str, str]], list[str]]:
    """The winners as (entry id, the quota's group or '' for the general draw), in winning order, and
    the entries passed over because ``may_win`` refused them (the next in rank takes their place)."""
    won, skipped, taken = [], [], set()
    for group, quota in quotas.items():
        filled = 0
        for entry_id in of_group.get(group, ()):
            if filled == quota:
                break
            taken.add(entry_id)
            if may_win(entry_id):
                won.append((entry_id, group))
                filled += 1
            else:
                skipped.append(entry_id)
    left = vouchers - len(won)
    for entry_id in overall:
        if left == 0:
            break
        if entry_id in taken:
            continue
        taken.add(entry_id)
        if may_win(entry_id):
            won.append((entry_id, ""))
            left -= 1
        else:
            skipped.append(entry_id)
    return won, skipped


def winners(seed_hex: str, entries: Iterable[tuple[str, str]], vouchers: int, quotas: dict[str, int],
            may_win: Callable[[str], bool] = lambda entry_id: True) -> tuple[list[tuple[str, str]], list[str]]:
    """``candidates`` then ``choose``: one tier's draw."""
    of_group, overall = candidates(seed_hex, entries, vouchers, quotas)
    return choose(of_group, overall, vouchers, quotas, may_win)


def _keep(heap: list, item: tuple[int, str], size: int) -> None:
    if size <= 0:
        return
    if len(heap) < size:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


def verify(document: dict) -> list[str]:
    """Recompute a published draw document; the list of what does not agree (empty = it checks out)."""
    problems = []
    seed = document.get("seed")
    if not seed:
        return ["the document has no seed: the round is not drawn yet"]
    if commitment(seed) != document.get("commitment"):
        problems.append("the seed does not match the commitment published before the entries")
    entry_ids = list(document.get("entries") or [])
    if entry_ids != sorted(entry_ids):
        problems.append("the entries are not in sorted order")
    digest, _count = entries_digest(sorted(entry_ids))
    if digest != document.get("entries_digest"):
        problems.append("the entries do not match the digest published when entries closed")
    skipped = set(document.get("skipped") or [])
    published = document.get("winners") or []
    recomputed = []
    for tier in document.get("tiers") or []:
        tier_entries = tier.get("entries", entry_ids)
        group_of = {entry_id: quota["group"] for quota in tier.get("quotas", []) for entry_id in quota["entries"]}
        quotas = {quota["group"]: quota["vouchers"] for quota in tier.get("quotas", [])}
        won, _passed = winners(seed, ((entry_id, group_of.get(entry_id, "")) for entry_id in tier_entries),
                               tier["vouchers"], quotas, lambda entry_id: entry_id not in skipped)
        recomputed.extend(entry_id for entry_id, _group in won)
    if sorted(recomputed) != sorted(published):
        problems.append(f"the winners differ: {len(set(recomputed) - set(published))} recomputed winner(s) are "
                        f"not published, {len(set(published) - set(recomputed))} published are not recomputed")
    return problems
