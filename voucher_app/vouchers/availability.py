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
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from campaigns.lifecycle import effective_status, no_such_campaign
from campaigns.models import Campaign, CampaignStatus, Measure, Tier
from campaigns.schemas import campaign_out
from campaigns.service import campaign_views, get_campaign, status_is
from voucher_app.core.cache import Kept
from voucher_app.core.database import keyset_page
from voucher_app.core.extensions import db
from voucher_app.core.i18n import in_english
from voucher_app.vouchers.counts import counts

TITLES_SECONDS = 60.0

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
        """The campaign kept for a row of (id, version), loaded again if the version moved (and at
        least every ``TITLES_SECONDS``, for the measures' titles)."""
        campaign_id, current = version[0], tuple(version[1:])
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


def campaign_for_residents(campaign_id: str, now: dt.datetime) -> dict:
    """The campaign as the API shows it to anyone but the bureau (not found for a draft)."""
    return _shown(campaigns.get(campaign_id), now, counts.by_tier([campaign_id]))


def campaigns_for_residents(now: dt.datetime) -> list[dict]:
    """Open campaigns first, then those opening soon, newest first, as residents' list shows them."""
    return [campaign for status in ("open", "scheduled")
            for campaign in campaign_list_for_residents(now, status=status, cursor=None, limit=LISTED)[0]]


def campaign_list_for_residents(now: dt.datetime, *, status: str | None, cursor: str | None,
                                limit: int) -> tuple[list[dict], str | None]:
    """A page of published campaigns, newest first (``status``: as residents meet it), and the next cursor."""
    query = select(Campaign.id, *_VERSION).where(Campaign.status != CampaignStatus.draft)
    if status:
        query = query.where(status_is(status, now))
    versions, next_cursor = keyset_page(query, Campaign.id, cursor, limit, newest_first=True,
                                        rows_of=db.session.execute)
    kept = [campaigns.as_of(version) for version in versions]
    claimed = counts.by_tier([k.campaign.id for k in kept])
    return [_shown(k, now, claimed) for k in kept], next_cursor


def _shown(kept: _Shown, now: dt.datetime, claimed: dict[str, dict[str, int]]) -> dict:
    english = in_english()
    titles = {code: (en if english else zh) for code, (zh, en) in kept.titles.items()}
    return campaign_out(kept.campaign, effective_status(kept.campaign, now).value, claimed, now, titles)


def with_counts(campaigns: list[Campaign], now: dt.datetime) -> list[dict]:
    """Campaigns as the bureau's pages and API show them (drafts too, loaded afresh), each tier with
    the vouchers claimed so far."""
    return campaign_views(campaigns, now, counts.by_tier([c.id for c in campaigns]))
