"""An entry racing the close of entries is either in the published digest or refused, never after it."""
from __future__ import annotations

import threading

from sqlalchemy import select, text

from tests.builders import resident_token
from tests.lottery.test_lottery_api import CLOSES, OPENS, admin, enter, published  # noqa: F401
from tests.settlement.test_cutoff import _wait_until_blocked_by
from voucher_app.core.extensions import db
from voucher_app.core.hotpath import release
from voucher_app.lottery import draw
from voucher_app.lottery.jobs import draw_lotteries
from voucher_app.lottery.models import Entry


def test_an_entry_waiting_on_the_closing_round_is_refused_and_the_digest_stands(app, client, admin, clock):  # noqa: F811
    campaign = published(client, admin, quantity=2)
    clock.set(OPENS)
    first = enter(client, resident_token(client), campaign).get_json()["id"]
    late_token = resident_token(client)
    round_id = campaign["rounds"][0]["id"]
    outcome: dict = {}

    def late_entry():
        with app.app_context():
            try:
                outcome["answer"] = enter(app.test_client(), late_token, campaign)
            finally:
                db.session.remove()
                release(db.engine)

    if db.engine.dialect.name != "postgresql":  # one writer at a time: the closing simply comes first
        clock.set(CLOSES)
        draw_lotteries(clock.now())
        late_entry()
    else:
        # The closing has locked the round and is computing the digest when the late entry arrives.
        blocker = db.engine.connect()
        held = blocker.begin()
        blocker.execute(text("SELECT id FROM rounds WHERE id = :id FOR UPDATE"), {"id": round_id})
        thread = threading.Thread(target=late_entry)
        thread.start()
        try:
            _wait_until_blocked_by(blocker)
            digest, count = draw.entries_digest([first])
            blocker.execute(text("UPDATE rounds SET entries_digest = :d, entry_count = :n WHERE id = :id"),
                            {"d": digest, "n": count, "id": round_id})
            held.commit()
        finally:
            blocker.close()
            thread.join(30)
    answer = outcome["answer"]
    assert answer.status_code == 409 and answer.get_json()["code"] == "not_open", answer.get_json()
    db.session.expire_all()
    assert db.session.scalars(select(Entry.id).where(Entry.round_id == round_id)).all() == [first]


