"""Community workers: residents without a smartphone, registered and helped by a worker of their district.

Who may do what. A community worker (``Role.community_worker``, made by the bureau with ``voucher
create-staff NAME --role community_worker --district CODE``) serves one district. They register a
resident of that district who has no smartphone — name, ID number, phone if any, and the resident's
consent, which the worker reads out and records — and then act for that resident only: claim a
voucher, enter a draw, print and revoke the printed sheet. Another worker's resident is ``not_found``
to them, as another resident's voucher is to a resident, so ids reveal nothing.

The same rules as for anyone. A claim or an entry on a resident's behalf goes through the very path a
resident's own does (``vouchers.claiming.claim_voucher``, ``lottery.service.enter``) with the resident
as the claimant: their limits (counted per person, so a phone the resident also uses shares them), the
campaign's district and profile conditions, and the reserved quotas of their groups (an elderly
resident takes from the elderly quota). Only who pressed the button differs, and that is recorded.

What is recorded. Every action on a resident's behalf is an audit record with the worker as the actor
and ``detail.resident_id`` naming the resident (``proxy.register``, ``proxy.claim``, ``proxy.enter``,
and printing's ``voucher.print`` / ``voucher.print_revoke``); vouchers and entries carry the worker in
``proxy_id``. Never the ID number (kept only as its keyed hash, ``accounts/profile.py``) nor the phone.
A resident who signs in with a phone sees the list (``done_on_behalf``) and which vouchers and entries
were a worker's doing.

A claim marks its voucher with the worker in a short second transaction after the claim's own, so the
rush's claim path stays as it is: a request that fails between the two leaves a voucher without its
worker (the resident still holds it, and the worker cannot print it); the client's retry with the same
``Idempotency-Key`` gets the first answer and completes the mark and the audit record.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from stdnum.cn import ric

from voucher_app.accounts.models import User
from voucher_app.accounts.profile import LOW_INCOME, id_hash, in_group, normalised_id_number, person_with
from voucher_app.core.audit import ID_LENGTH, AuditRecord, audited
from voucher_app.core.clock import iso
from voucher_app.core.database import new_id, write_transaction
from voucher_app.core.errors import Conflict, NotFound, ValidationError
from voucher_app.core.extensions import db
from voucher_app.core.phones import normalize_phone
from voucher_app.core.roles import Role
from voucher_app.lottery import service as lottery
from voucher_app.vouchers.claiming import claim_voucher
from voucher_app.vouchers.models import Voucher
from voucher_app.vouchers.printing import PRINT, REVOKE

REGISTER, CLAIM, ENTER = "proxy.register", "proxy.claim", "proxy.enter"
# What a resident sees in "done on your behalf", in their words.
ON_BEHALF = {REGISTER: _l("Registered you, with your agreement"), CLAIM: _l("Claimed a voucher for you"),
             ENTER: _l("Entered a draw for you"), PRINT: _l("Printed a voucher for you"),
             REVOKE: _l("Cancelled a printed voucher sheet")}


# Registering -------------------------------------------------------------------------------------------

def register_resident(worker: User, name: str, id_number: str, district: str, phone: str | None,
                      consent: bool, now: dt.datetime) -> User:
    """Register a resident of the worker's district who has no smartphone; returns the new account.

    Refused field by field (``validation_error``): an invalid ID number, another district than the
    worker's, a phone that is not a mainland mobile number, no consent. ``conflict`` (409): the phone
    already has an account, or a worker already registered this ID number (with ``resident_id`` when
    it was this worker). An ID number a resident bound on their own makes the new account count as that
    person (the first account with the number), as a second phone would.
    """
    errors = []
    name = " ".join((name or "").split())
    if not name:
        errors.append({"field": "name", "message": _("This field is required.")})
    try:
        number = normalised_id_number(id_number)
    except ValidationError as err:
        errors += err.errors
        number = None
    if district != worker.district:
        errors.append({"field": "district", "message": _(
            "You register residents of your own district only.")})
    phone_number = None
    if phone and phone.strip():
        phone_number = normalize_phone(phone)
        if phone_number is None:
            errors.append({"field": "phone", "message": _(
                "Enter an 11-digit mainland mobile number, such as 13800138000.")})
    if not consent:
        errors.append({"field": "consent", "message": _(
            "Read the consent to the resident, and tick it only when they agree to registration and the use "
            "of their data.")})
    if errors:
        raise ValidationError(errors=errors)
    digest = id_hash(number)
    resident_id = new_id()
    with audited(REGISTER, "user", resident_id, worker.id, now) as detail:
        # One registration at a time per worker: their own double tap cannot make the resident twice.
        db.session.execute(select(User.id).where(User.id == worker.id).with_for_update())
        registered = db.session.execute(
            select(User.id, User.registered_by).where(User.id_hash == digest, User.registered_by.is_not(None))
            .order_by(User.created_at, User.id).limit(1)).first()
        if registered is not None:
            if registered.registered_by == worker.id:
                raise Conflict(_("You have already registered this resident."), resident_id=registered.id)
            raise Conflict(_("Another community worker has already registered this resident."))
        if phone_number and db.session.scalars(select(User.id).where(User.phone == phone_number)).first():
            raise Conflict(_("This phone number already has an account. Ask the resident to add their ID "
                             "number in their profile instead."),
                           errors=[{"field": "phone", "message": _("This phone number already has an account.")}])
        resident = User(id=resident_id, role=Role.resident, phone=phone_number, display_name=name, district=district,
                        birth_year=ric.get_birth_date(number).year, id_hash=digest,
                        person_id=person_with(digest, resident_id), registered_by=worker.id, consent_at=now,
                        low_income=in_group(LOW_INCOME, digest), is_active=True)
        db.session.add(resident)
        detail.update(resident_id=resident_id, with_phone=phone_number is not None,
                      shares_limits_with_another_account=resident.person_id is not None)
    return resident


def my_residents(worker_id: str) -> list[User]:
    """The residents the worker registered, newest first."""
    return list(db.session.scalars(select(User).where(User.registered_by == worker_id, User.role == Role.resident)
                                   .order_by(User.created_at.desc(), User.id.desc())))


def resident_of(worker: User, resident_id: str) -> User:
    """A resident the worker registered; anyone else is ``not_found``."""
    resident = db.session.get(User, resident_id) if resident_id and len(resident_id) <= ID_LENGTH else None
    if resident is None or resident.registered_by != worker.id or resident.role is not Role.resident:
        raise NotFound(_("There is no such resident among those you registered."))
    return resident


# Acting for a resident ---------------------------------------------------------------------------------

def claim_for(worker: User, resident_id: str, campaign_id: str, tier_id: str, now: dt.datetime,
              key: str | None = None) -> tuple[dict, int]:
    """Claim a voucher for a resident the worker registered, under the resident's own rules; the
    voucher records the worker (who may then print it) and the audit log both people."""
    resident = resident_of(worker, resident_id)
    answer, status = claim_voucher(campaign_id, tier_id, resident, now, key)
    with write_transaction():
        marked = db.session.execute(
            update(Voucher).where(Voucher.id == answer["id"], Voucher.resident_id == resident.id,
                                  Voucher.proxy_id.is_(None))
            .values(proxy_id=worker.id).execution_options(synchronize_session=False)).rowcount
        if marked:  # the first time only: a replayed request finds it marked
            db.session.add(AuditRecord(at=now, actor_id=worker.id, action=CLAIM, target_type="voucher",
                                       target_id=answer["id"], outcome="ok",
                                       detail={"resident_id": resident.id, "campaign_id": campaign_id}))
    return answer, status


def enter_for(worker: User, resident_id: str, campaign_id: str, tier_id: str, now: dt.datetime,
              key: str | None = None) -> tuple[dict, int]:
    """Enter a resident the worker registered in a draw; the entry and the audit log record the worker."""
    resident = resident_of(worker, resident_id)
    return lottery.enter(campaign_id, tier_id, resident, now, key, proxy=worker)


# What the resident sees --------------------------------------------------------------------------------

def done_on_behalf(resident: User) -> list[dict]:
    """What the resident's community worker did for them, newest first: registering them, claims,
    entries, printed and revoked sheets. Only the worker who registered them acts for them."""
    if resident.registered_by is None:
        return []
    a = AuditRecord
    rows = db.session.execute(
        select(a.action, a.at, a.target_type, a.target_id, User.display_name, User.username)
        .join(User, User.id == a.actor_id)
        .where(a.actor_id == resident.registered_by, a.action.in_(list(ON_BEHALF)), a.outcome == "ok",
               a.detail["resident_id"].as_string() == resident.id)
        .order_by(a.at.desc(), a.id.desc()).limit(200))
    return [{"action": action, "what": str(ON_BEHALF[action]), "at": iso(at), "target_type": target_type,
             "target_id": target_id, "worker": name or username}
            for action, at, target_type, target_id, name, username in rows]
