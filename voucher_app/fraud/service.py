"""Fraud flags: the rules' hits kept as flags, and the bureau's review of them.

Why a flag is neither lost nor doubled
--------------------------------------
A shop has at most one *open* flag per rule: a partial unique index (``uq_flags_open_rule_merchant``,
``WHERE status = 'open'``) says so on both databases. Each hit is recorded in a write transaction of
its own that first reads the open flag under ``FOR UPDATE``: when there is one, the hit's redemptions
are added to its evidence, its score becomes the higher of the two and ``hits`` grows by one; when
there is none, a new flag is inserted. Two evaluations running at once (a late scheduler run and a
``voucher fraud evaluate``) may both find none: on PostgreSQL the second insert waits on the index
and fails when the first commits, and the hit is recorded again, now as an update; on SQLite the write
transactions begin ``IMMEDIATE`` and simply take turns. A hit that adds nothing (the same evidence,
no higher score) changes nothing, so an evaluation can run late, twice, or after downtime.

A flag the bureau has cleared or confirmed is closed for good: the same evidence never reopens it.
Only redemptions no earlier cleared or confirmed flag of that rule and shop has named open a new one,
and only those are its evidence — so confirming it cannot claw the same sale back twice.

Review: an administrator clears or confirms an open flag, with a note, in one transaction with its
audit record; confirming also claws the flag's redemptions back (``clawback.py``) and writes
``flag_confirmed`` on the shop's credit record (which withdraws its badge). A flag already resolved is
refused with the stable code ``flag_resolved`` (409).
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from campaigns.models import Campaign, Tier
from merchants.credit import FLAG_CONFIRMED, record_event
from merchants.models import Merchant
from voucher_app.accounts.models import User
from voucher_app.core.audit import audited
from voucher_app.core.clock import city_zone, iso
from voucher_app.core.database import write_transaction
from voucher_app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from voucher_app.core.extensions import db
from voucher_app.core.roles import Role
from voucher_app.fraud.clawback import claw_back
from voucher_app.fraud.models import Flag, FlagStatus, FraudRule
from voucher_app.fraud.rules import MAX_EVIDENCE, RULES, Hit, Window, explain, resident_ref, rule_name
from voucher_app.redemptions.models import Redemption
from voucher_app.vouchers.models import Voucher

MAX_STORED_EVIDENCE = 4 * MAX_EVIDENCE  # a flag updated many times keeps at most this many ids
NOTE_MAX = 2000
PAGE_SIZE = 50
OUTCOMES = (FlagStatus.cleared.value, FlagStatus.confirmed.value)
STATUS_LABELS = {"open": _l("To review"), "cleared": _l("Cleared"), "confirmed": _l("Confirmed")}


class FlagResolved(Conflict):
    code, status, title = "flag_resolved", 409, _l("This flag has already been cleared or confirmed.")


# The rules' settings ------------------------------------------------------------------------------

def ensure_rules(now: dt.datetime) -> None:
    """Give every rule its row with the default thresholds, where it has none yet; a concurrent
    caller's row wins (``ON CONFLICT DO NOTHING`` on the primary key)."""
    dialect = db.engine.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    with write_transaction():
        have = set(db.session.scalars(select(FraudRule.code)))
        missing = [{"code": code, "enabled": True, "params": rule.defaults(), "updated_at": now}
                   for code, rule in RULES.items() if code not in have]
        if missing:
            db.session.execute(insert(FraudRule).values(missing).on_conflict_do_nothing(index_elements=["code"]))


def rule_settings() -> list[dict]:
    """Every rule as the bureau tunes it: on or off, its thresholds (stored, else the defaults)."""
    rows = {row.code: row for row in db.session.scalars(select(FraudRule))}
    names = _user_names(row.updated_by for row in rows.values())
    out = []
    for code, rule in RULES.items():
        row = rows.get(code)
        out.append({"code": code, "name": str(rule.name), "description": str(rule.description),
                    "enabled": row.enabled if row else True,
                    "params": _params(rule, row), "defaults": rule.defaults(),
                    "labels": {key: str(param.label) for key, param in rule.params.items()},
                    "updated_at": iso(row.updated_at) if row else None,
                    "updated_by": names.get(row.updated_by) if row else None})
    return out


def _params(rule, row: FraudRule | None) -> dict:
    stored = (row.params if row is not None else None) or {}
    return {key: stored.get(key, param.default) for key, param in rule.params.items()}


def check_params(code: str, params: object) -> dict:
    """``params`` if each names a threshold of the rule with a number of the right kind in its bounds;
    else ``validation_error`` naming each wrong field."""
    rule = RULES[code]
    if not isinstance(params, dict):
        raise ValidationError(errors=[{"field": "params", "message": _("This value has the wrong type.")}])
    errors, clean = [], {}
    for key, value in params.items():
        spec = rule.params.get(key)
        field = f"params.{key}"
        if spec is None:
            errors.append({"field": field, "message": _("This field is not accepted.")})
        elif isinstance(value, bool) or not isinstance(value, int if spec.kind is int else (int, float)):
            errors.append({"field": field, "message": _("Enter a whole number.") if spec.kind is int
                           else _("Enter a number.")})
        elif value < spec.minimum:
            errors.append({"field": field, "message": _("Must be at least %(n)s.", n=spec.minimum)})
        elif spec.maximum is not None and value > spec.maximum:
            errors.append({"field": field, "message": _("Must be at most %(n)s.", n=spec.maximum)})
        else:
            clean[key] = spec.kind(value)
    if errors:
        raise ValidationError(errors=errors)
    return clean


def update_rule(code: str, enabled: bool | None, params: dict, actor: User, now: dt.datetime) -> dict:
    """Turn a rule on or off and change some of its thresholds (the others keep their values); audited
    with the settings before and after."""
    if actor.role is not Role.admin:
        raise Forbidden()
    if code not in RULES:
        raise NotFound()
    with audited("fraud_rule.update", "fraud_rule", code, actor.id, now) as detail:
        clean = check_params(code, params)
        if enabled is not None and not isinstance(enabled, bool):
            raise ValidationError(errors=[{"field": "enabled", "message": _("This value has the wrong type.")}])
        row = db.session.scalars(select(FraudRule).where(FraudRule.code == code).with_for_update()).first()
        if row is None:
            row = FraudRule(code=code, enabled=True, params=RULES[code].defaults())
            db.session.add(row)
        before = {"enabled": row.enabled, "params": _params(RULES[code], row)}
        row.params = {**before["params"], **clean}
        if enabled is not None:
            row.enabled = enabled
        row.updated_at, row.updated_by = now, actor.id
        detail.update(before=before, after={"enabled": row.enabled, "params": row.params})
    return next(rule for rule in rule_settings() if rule["code"] == code)


# Evaluation ---------------------------------------------------------------------------------------

def evaluate(now: dt.datetime, since: dt.datetime | None = None) -> dict:
    """Run every enabled rule over the redemptions since ``since`` (default: ``FRAUD_LOOKBACK_DAYS``
    before ``now``) and record each hit as a flag; a sweep, harmless to repeat."""
    ensure_rules(now)
    start = since or now - dt.timedelta(days=int(current_app.config["FRAUD_LOOKBACK_DAYS"]))
    window = Window(start, now, city_zone(), start - dt.timedelta(days=90))
    settings = {row.code: row for row in db.session.scalars(select(FraudRule))}
    summary = {"hits": 0, "opened": 0, "updated": 0, "unchanged": 0, "closed_before": 0}
    for code, rule in RULES.items():
        row = settings.get(code)
        if row is not None and not row.enabled:
            continue
        hits = rule.find(window, _params(rule, row))
        summary["hits"] += len(hits)
        for hit in hits:
            summary[record_hit(code, hit, now)] += 1
    db.session.commit()  # ends the read transaction
    return summary


def record_hit(code: str, hit: Hit, now: dt.datetime) -> str:
    """Open or update the shop's flag for this rule: ``opened``, ``updated``, ``unchanged``, or
    ``closed_before`` (every redemption of the hit is in a flag the bureau already resolved)."""
    for attempt in range(3):
        try:
            with write_transaction():
                return _record(code, hit, now)
        except IntegrityError:
            # Another evaluation opened the flag meanwhile (the partial unique index): update that one.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _record(code: str, hit: Hit, now: dt.datetime) -> str:
    same = and_(Flag.rule == code, Flag.merchant_id == hit.merchant_id)
    flag = db.session.scalars(select(Flag).where(same, Flag.status == FlagStatus.open).with_for_update()).first()
    resolved: set[str] = set()
    for ids in db.session.scalars(select(Flag.redemption_ids).where(same, Flag.status != FlagStatus.open)):
        resolved.update(ids or ())
    fresh = [rid for rid in hit.redemption_ids if rid not in resolved]
    if flag is None:
        if not fresh:
            return "closed_before"
        db.session.add(Flag(rule=code, merchant_id=hit.merchant_id, score=hit.score, explanation=hit.explanation,
                            redemption_ids=sorted(fresh)[:MAX_STORED_EVIDENCE], status=FlagStatus.open, hits=1,
                            opened_at=now, updated_at=now))
        db.session.flush()
        return "opened"
    known = set(flag.redemption_ids or ())
    merged = sorted(known | set(fresh))[:MAX_STORED_EVIDENCE]
    if len(merged) == len(known) and hit.score <= flag.score:
        return "unchanged"
    if hit.score >= flag.score:
        flag.explanation = hit.explanation
    flag.score = max(flag.score, hit.score)
    flag.redemption_ids = merged
    flag.hits += 1
    flag.updated_at = now
    return "updated"


# Reading flags ------------------------------------------------------------------------------------

def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def flags_page(status: str | None, cursor: str | None, limit: int = PAGE_SIZE) -> tuple[list[dict], str | None]:
    """Flags (of ``status``, else all), highest score first, and the cursor of the next page."""
    query = (select(Flag, Merchant.name).join(Merchant, Merchant.id == Flag.merchant_id)
             .order_by(Flag.score.desc(), Flag.id.desc()).limit(limit + 1))
    if status:
        query = query.where(Flag.status == FlagStatus(status))
    if cursor:
        score, _sep, last_id = cursor.partition(":")
        if not score.isdigit() or not last_id:
            raise ValidationError(errors=[{"field": "cursor", "message": _("This value is not valid.")}])
        query = query.where(or_(Flag.score < int(score), and_(Flag.score == int(score), Flag.id < last_id)))
    rows = db.session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [flag_out(flag, name) for flag, name in rows]
    return items, (f"{rows[-1][0].score}:{rows[-1][0].id}" if more else None)


def flag_counts() -> dict[str, int]:
    counts = dict(db.session.execute(select(Flag.status, func.count()).group_by(Flag.status)).all())
    return {status.value: counts.get(status, 0) for status in FlagStatus}


def flag_out(flag: Flag, merchant_name: str | None = None) -> dict:
    return {"id": flag.id, "rule": flag.rule, "rule_name": rule_name(flag.rule), "merchant_id": flag.merchant_id,
            "merchant_name": merchant_name, "score": flag.score,
            "explanation": explain(flag.rule, flag.explanation or {}), "figures": flag.explanation,
            "redemption_ids": list(flag.redemption_ids or ()), "status": flag.status.value, "hits": flag.hits,
            "opened_at": iso(flag.opened_at), "updated_at": iso(flag.updated_at),
            "resolved_at": iso(flag.resolved_at), "note": flag.note}


def get_flag(flag_id: str) -> tuple[Flag, str]:
    row = db.session.execute(select(Flag, Merchant.name).join(Merchant, Merchant.id == Flag.merchant_id)
                             .where(Flag.id == flag_id)).first() if flag_id and len(flag_id) <= 26 else None
    if row is None:
        raise NotFound()
    return row[0], row[1]


def flag_detail(flag_id: str) -> dict:
    """One flag with its evidence table and who resolved it."""
    flag, name = get_flag(flag_id)
    body = flag_out(flag, name)
    body["resolved_by"] = _user_names([flag.resolved_by]).get(flag.resolved_by) if flag.resolved_by else None
    body["evidence"] = evidence_rows(flag)
    return body


def evidence_rows(flag: Flag) -> list[dict]:
    """The flag's redemptions as an officer checks them: time, cashier, voucher, money, and what became
    of them. Residents appear only by a short anonymised name, never by phone."""
    ids = list(flag.redemption_ids or ())
    rows = []
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        rows.extend(db.session.execute(
            select(Redemption, Voucher.resident_id, Voucher.claimed_at, Voucher.threshold_cents, Voucher.percent,
                   Campaign.name.label("campaign"), Tier.name.label("tier"))
            .join(Voucher, Voucher.id == Redemption.voucher_id).join(Campaign, Campaign.id == Redemption.campaign_id)
            .join(Tier, Tier.id == Voucher.tier_id).where(Redemption.id.in_(chunk))).all())
    names = _user_names(row[0].cashier_id for row in rows)
    rows.sort(key=lambda row: (row[0].redeemed_at, row[0].id))
    return [{"id": r.id, "redeemed_at": iso(r.redeemed_at), "cashier": names.get(r.cashier_id, "—"),
             "voucher_id": r.voucher_id, "campaign": campaign, "tier": tier, "threshold_cents": threshold,
             "bill_cents": r.bill_cents, "discount_cents": r.discount_cents, "payable_cents": r.payable_cents,
             "resident": resident_ref(resident_id), "claimed_at": iso(claimed_at),
             "seconds_from_claim": round((r.redeemed_at - claimed_at).total_seconds()) if claimed_at else None,
             "refunded_at": iso(r.refunded_at), "clawed_back_at": iso(r.clawed_back_at)}
            for r, resident_id, claimed_at, threshold, _percent, campaign, tier in rows]


def _user_names(user_ids) -> dict[str, str]:
    ids = [uid for uid in set(user_ids) if uid]
    if not ids:
        return {}
    return {uid: display or username or "—" for uid, display, username in db.session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(ids)))}


# Review -------------------------------------------------------------------------------------------

def check_resolution(outcome: object, note: object) -> tuple[str, str]:
    errors = []
    if outcome not in OUTCOMES:
        errors.append({"field": "outcome", "message": _("Choose one of: %(options)s.", options="cleared, confirmed")})
    text = note.strip() if isinstance(note, str) else ""
    if not text:
        errors.append({"field": "note", "message": _("Write a note: what you checked and why you decided so.")})
    elif len(text) > NOTE_MAX:
        errors.append({"field": "note", "message": _("Too long: at most %(n)s.", n=NOTE_MAX)})
    if errors:
        raise ValidationError(errors=errors)
    return str(outcome), text


def resolve(flag_id: str, outcome: str, note: str, actor: User, now: dt.datetime) -> dict:
    """Clear or confirm an open flag with the officer's note, audited; confirming claws its
    redemptions' subsidy back and goes on the shop's credit record, in the same transaction."""
    if actor.role is not Role.admin:
        raise Forbidden()
    outcome, note = check_resolution(outcome, note)
    with audited("flag.resolve", "flag", flag_id, actor.id, now, reason=note) as detail:
        flag = db.session.scalars(select(Flag).where(Flag.id == flag_id).with_for_update()).first()
        if flag is None:
            raise NotFound()
        if flag.status is not FlagStatus.open:
            raise FlagResolved(flag_status=flag.status.value)
        flag.status = FlagStatus(outcome)
        flag.resolved_at, flag.resolved_by, flag.note = now, actor.id, note
        clawback = None
        if flag.status is FlagStatus.confirmed:
            clawback = claw_back(flag, actor.id, now)
            record_event(flag.merchant_id, FLAG_CONFIRMED, now, ref_type="flag", ref_id=flag.id, reason=note,
                         actor_id=actor.id)
        detail.update(outcome=outcome, rule=flag.rule, merchant_id=flag.merchant_id, score=flag.score,
                      redemptions=len(flag.redemption_ids or ()), clawback=clawback)
    body = flag_out(flag, db.session.get(Merchant, flag.merchant_id).name)
    body["clawback"] = clawback
    return body
