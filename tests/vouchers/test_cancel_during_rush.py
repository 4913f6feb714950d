"""Cancelling a campaign while its claims are in flight leaves no claimed voucher behind (issue #15, item 5).

Residents keep pressing "claim" against the real server while the bureau cancels the campaign over
the API. A claim that read the campaign open before the cancel must either commit before the cancel
revokes (and then be revoked with the rest) or take nothing; whatever the interleaving, afterwards no
voucher of the cancelled campaign is ``claimed``, every claim answered 201 shows ``revoked`` in its
resident's wallet, and the books balance. The race is a matter of milliseconds, so it is run several
times. On SQLite and PostgreSQL.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from tests.builders import PASSWORD, make_staff
from tests.http_client import Http
from tests.vouchers.test_claim_concurrency import PARALLEL, claim, http, open_campaign, residents, rush_server  # noqa: F401
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.settlement.reconciliation import check_ledger
from voucher_app.vouchers.models import Voucher, VoucherStatus

REPEATS = 4
RESIDENTS = PARALLEL
CLAIMS_EACH = 6
CANCEL_AFTER = RESIDENTS * CLAIMS_EACH // 4  # answers received before the cancel is sent


def admin_token(http: Http) -> str:
    admin = make_staff(Role.admin)
    _, body, _ = http.post("/api/v1/auth/token", {"username": admin.username, "password": PASSWORD})
    return body["token"]


def rush_with_a_cancel(http: Http, campaign: dict, tokens: list[str], admin: str) -> tuple[list, int]:
    """Every resident claims ``CLAIMS_EACH`` times, ``PARALLEL`` requests at once; once ``CANCEL_AFTER``
    answers are in, the bureau cancels while the rest are still being sent. Returns the claims'
    (token, status, body) and the cancel's status."""
    answered = threading.Semaphore(0)
    requests = [token for _ in range(CLAIMS_EACH) for token in tokens]  # one resident's claims spread out

    def one(token: str):
        status, body = claim(http, campaign, token)
        answered.release()
        return token, status, body

    with ThreadPoolExecutor(PARALLEL) as pool:
        futures = [pool.submit(one, token) for token in requests]
        for _ in range(CANCEL_AFTER):
            answered.acquire()
        cancel_status, body, _ = http.post(f"/api/v1/campaigns/{campaign['id']}/cancel", {"reason": "并发取消测试"},
                                           token=admin)
        assert cancel_status == 200, body
        return [f.result() for f in futures], cancel_status


def test_cancelling_during_a_claim_rush_leaves_no_claimed_voucher(http):
    tokens = residents(http, RESIDENTS)
    admin = admin_token(http)
    for _ in range(REPEATS):
        campaign = open_campaign(http, RESIDENTS * CLAIMS_EACH, limit_per_resident=CLAIMS_EACH,
                                 limit_per_round=CLAIMS_EACH)
        results, _ = rush_with_a_cancel(http, campaign, tokens, admin)

        codes = {status if status == 201 else body["code"] for _, status, body in results}
        assert codes <= {201, "campaign_closed", "limit_reached"}, codes
        assert 201 in codes and "campaign_closed" in codes  # claims landed on both sides of the cancel

        db.session.expire_all()
        states = dict(db.session.execute(
            select(Voucher.status, func.count()).where(Voucher.campaign_id == campaign["id"])
            .group_by(Voucher.status)).all())
        assert VoucherStatus.claimed not in states, states

        granted: dict[str, set[str]] = {}
        for token, status, body in results:
            if status == 201:
                granted.setdefault(token, set()).add(body["id"])
        for token, ids in granted.items():
            _, wallet, _ = http.get("/api/v1/me/vouchers", token=token)
            shown = {v["id"]: v["status"] for v in wallet["items"] if v["campaign_id"] == campaign["id"]}
            assert {shown.get(i) for i in ids} == {"revoked"}, (ids, shown)
        assert sum(map(len, granted.values())) == states.get(VoucherStatus.revoked, 0)
        assert check_ledger()[1] == []
