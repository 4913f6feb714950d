"""One campaign as residents see it, kept by each process while it is unchanged.

The campaign page reloads itself when a round opens (``static/js/countdown.js``): at 20:00:00 a
city's residents load the same campaign within two seconds, and they reload it after the sell-out to
see whether anything came back. Loading a campaign with its tiers, rounds, allocations and measures
is five queries and the ORM's work, ~1.5 ms, for something that changes a few times in a campaign's
life. So each process keeps the campaigns it has loaded, and before using one reads its version —
status, ``updated_at`` and the tiers' total quantity: every change residents could see changes one
of them (publishing and cancelling, the scheduler opening, closing or settling it; recycled vouchers
added to a later round grow their tier), so a kept campaign is never stale. Its claimed counts come
from ``counts.py``; its times and states are judged against the clock on every view.
Measure titles change only when the city's plan is loaded again, and are re-read with the campaign
at least every ``TITLES_SECONDS``.

Drafts are never kept (residents cannot see them), nor is anything for the bureau's own views.

The public reads of the API answer residents' views conditionally (``core/conditional.py``):
``residents_campaign`` and ``residents_page`` name the state each answer is made of — the campaigns'
data version (``core/versions.py``), the clock's place among the moments that change what residents
see (``service.moments_shown``), and the claimed counts — and build the answer from exactly that
state, so a request whose state is unchanged is answered without building anything. Claimed counts
stay inside the answer rather than in a separate request, so a resident gets one consistent view;
they are what changes every second in a rush, so the answers say ``max-age=COUNTS_MAX_AGE`` — a
count read from ``counts.py`` (at most ``counts.MAX_AGE`` old) then kept by a browser or proxy is
never more than ``COUNTS_MAX_AGE + counts.MAX_AGE`` seconds old — and a new count makes a new state
and ETag, built once per worker.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from sqlalchemy import func, select

from campaigns.lifecycle import effective_status, no_such_campaign
from campaigns.models import Campaign, CampaignStatus, Measure, Tier
from campaigns.schemas import campaign_out
from campaigns.service import campaign_views, get_campaign, moments_shown, status_is
from voucher_app.core import versions
from voucher_app.core.cache import Kept
from voucher_app.core.database import keyset_page
from voucher_app.core.extensions import db
from voucher_app.core.i18n import in_english
from voucher_app.vouchers.counts import counts

TITLES_SECONDS = 60.0
COUNTS_MAX_AGE = 2  # seconds a browser or proxy may keep an answer that shows claimed counts

LISTED = 100  # campaigns of each kind on residents' list (open, then opening soon)

_QUANTITY = (select(func.coalesce(func.sum(Tier.quantity), 0)).where(Tier.campaign_id == Campaign.id)
             .correlate(Campaign).scalar_subquery())
_VERSION = (Campaign.status, Campaign.updated_at, _QUANTITY)


@dataclass(frozen=True)
class _Shown:
    campaign: Campaign  # with its tiers, rounds and allocations; detached, so only ever read
    version: tuple
    titles: dict[str, tuple[str, str]]  # measure code → (Chinese, English)


class _Campaigns:
    def __init__(self):
        self._kept: Kept[str, _Shown] = Kept()

    def get(self, campaign_id: str) -> _Shown:
        version = db.session.execute(select(Campaign.id, *_VERSION).where(Campaign.id == campaign_id)).first()
        if version is None or version.status is CampaignStatus.draft:
            raise no_such_campaign()
        return self.as_of(version)

    def as_of(self, version) -> _Shown:
        """The campaign kept for a row of (id, version), loaded again if the version or the campaigns'
        data version moved (and at least every ``TITLES_SECONDS``, for the measures' titles): an
        answer built for a new data version never shows titles from before it."""
        campaign_id, current = version[0], (*version[1:], versions.current(versions.CAMPAIGNS))
        kept = self._kept.get(campaign_id)
        if kept is None or kept.version != current:
            kept = self._kept.put(campaign_id, self._load(campaign_id, current), TITLES_SECONDS)
        return kept

    @staticmethod
    def _load(campaign_id: str, version: tuple) -> _Shown:
        """Load the campaign, kept under the version read just before: a change between that read and
        this load is kept under the older version, and the next view loads it again."""
        campaign = get_campaign(campaign_id, include_drafts=False)
        titles = {m.code: (m.title_zh, m.title_en)
                  for m in db.session.scalars(select(Measure).where(Measure.code.in_(campaign.measure_codes)))}
        db.session.expunge(campaign)  # with its tiers, rounds, allocations and measure links (cascade)
        return _Shown(campaign, version, titles)

    def forget(self) -> None:
        self._kept.clear()


campaigns = _Campaigns()


def campaign_for_residents(campaign_id: str, now: dt.datetime,
                           claimed: dict[str, dict[str, int]] | None = None) -> dict:
    """The campaign as the API shows it to anyone but the bureau (not found for a draft); ``claimed``:
    the counts to show, else those of ``counts.py``."""
    return _shown(campaigns.get(campaign_id), now, counts.by_tier([campaign_id]) if claimed is None else claimed)


def campaigns_for_residents(now: dt.datetime) -> list[dict]:
    """Open campaigns first, then those opening soon, newest first, as residents' list shows them."""
    return [campaign for status in ("open", "scheduled")
            for campaign in campaign_list_for_residents(now, status=status, cursor=None, limit=LISTED)[0]]


def campaign_list_for_residents(now: dt.datetime, *, status: str | None, cursor: str | None,
                                limit: int) -> tuple[list[dict], str | None]:
    """A page of published campaigns, newest first (``status``: as residents meet it), and the next cursor."""
    page = _page(now, status, cursor, limit)
    return _shown_page(page, now, counts.by_tier(page.campaign_ids)), page.next_cursor


@dataclass(frozen=True)
class _Page:
    rows: list  # (id, *version) of each campaign on the page
    next_cursor: str | None

    @property
    def campaign_ids(self) -> list[str]:
        return [row[0] for row in self.rows]


def _page(now: dt.datetime, status: str | None, cursor: str | None, limit: int) -> _Page:
    query = select(Campaign.id, *_VERSION).where(Campaign.status != CampaignStatus.draft)
    if status:
        query = query.where(status_is(status, now))
    rows, next_cursor = keyset_page(query, Campaign.id, cursor, limit, newest_first=True, rows_of=db.session.execute)
    return _Page([tuple(row) for row in rows], next_cursor)


def _shown_page(page: _Page, now: dt.datetime, claimed: dict[str, dict[str, int]]) -> list[dict]:
    return [_shown(campaigns.as_of(row), now, claimed) for row in page.rows]


# Conditional answers (``core/conditional.py``) --------------------------------------------------------

_moments: Kept[int, list[dt.datetime]] = Kept(max_entries=16)
_pages: Kept[tuple, _Page] = Kept(max_entries=1024)


def _campaigns_state(now: dt.datetime) -> tuple[int, int] | None:
    """(campaigns' data version, how many of their moments have passed), or None without a version."""
    version = versions.current(versions.CAMPAIGNS)
    if version is None:
        return None
    moments = _moments.get(version)
    if moments is None:
        moments = _moments.put(version, moments_shown())
    return version, bisect_right(moments, now)


def _claimed_state(claimed: dict[str, dict[str, int]]) -> tuple:
    return tuple(sorted((tier_id, by_tier["claimed"]) for tier_id, by_tier in claimed.items()))


def residents_campaign(campaign_id: str, now: dt.datetime) -> tuple[Hashable | None, Callable[[], dict]]:
    """The state of a campaign's answer to residents, and how to build it from that state."""
    shown = _campaigns_state(now)
    claimed = counts.by_tier([campaign_id])
    state = None if shown is None else (*shown, _claimed_state(claimed))
    return state, lambda: campaign_for_residents(campaign_id, now, claimed)


def residents_page(now: dt.datetime, *, status: str | None, cursor: str | None,
                   limit: int) -> tuple[Hashable | None, Callable[[], dict]]:
    """The state of a page of residents' list of campaigns (the API's envelope), and how to build it."""
    shown = _campaigns_state(now)
    key = None if shown is None else (*shown, status, cursor, limit)
    page = _pages.get(key) if key is not None else None
    if page is None:
        page = _page(now, status, cursor, limit)
        if key is not None:
            _pages.put(key, page)
    claimed = counts.by_tier(page.campaign_ids)
    state = None if key is None else (*key, _claimed_state(claimed))
    return state, lambda: {"items": _shown_page(page, now, claimed), "next": page.next_cursor}


def _shown(kept: _Shown, now: dt.datetime, claimed: dict[str, dict[str, int]]) -> dict:
    english = in_english()
    titles = {code: (en if english else zh) for code, (zh, en) in kept.titles.items()}
    return campaign_out(kept.campaign, effective_status(kept.campaign, now).value, claimed, now, titles)


def with_counts(campaigns: list[Campaign], now: dt.datetime) -> list[dict]:
    """Campaigns as the bureau's pages and API show them (drafts too, loaded afresh), each tier with
    the vouchers claimed so far."""
    return campaign_views(campaigns, now, counts.by_tier([c.id for c in campaigns]))
