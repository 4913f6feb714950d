"""A resident's profile: district of residence, birth year, and the resident ID number (身份证号).

Why the ID number at all: a phone number is not a person. Per-resident limits counted per phone let
one person with three SIM cards claim three times, so a resident may bind their ID number, and
accounts that bound the same number count as one person (``User.person_id``) for every limit from
then on (vouchers an account claimed before binding stay counted where they were).

How little is kept: the number is validated (the GB 11643 check digit and birth date, through
``stdnum.cn.ric``) and stored only as HMAC-SHA256 under ``ID_NUMBER_KEY`` — enough to recognise it
again, not to recover it — and shown back only masked. A bound number cannot be changed by the
resident (that would shed the limits it carries).

Groups for reserved quotas (``groups_of``): ``elderly`` from the birth year (``ELDERLY_AGE`` or
older this calendar year, city time), ``low_income`` as the bureau sets it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Collection

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent
from stdnum.exceptions import ValidationError as NumberInvalid

from voucher_app.accounts.models import GroupMember, User
from voucher_app.core.audit import audited
from voucher_app.core.clock import city_day
from voucher_app.core.errors import Conflict, NotFound, ValidationError
from voucher_app.core.extensions import db

ELDERLY, LOW_INCOME = "elderly", "low_income"
GROUPS = (ELDERLY, LOW_INCOME)


def normalised_id_number(number: str) -> str:
    """The ID number in its one written form, or ``validation_error`` naming the field.

    ``stdnum``'s check of the place code also demands that the county existed in the holder's birth
    year; but numbers were issued from 1984 on by the place of residence then, so a resident born in
    1950 in today's Lizhou district rightly holds 510802…, a code created in 1985, and would be refused
    — exactly the elderly residents the quotas are for. So the place code need only be one the list
    knows, in any year; length, characters, the check digit and the birth date are checked in full."""
    compact = ric.compact(number or "")
    try:
        ric.validate(compact)
        return compact
    except InvalidComponent:  # the birth date or the place: the date must hold, the place be known
        try:
            ric.get_birth_date(compact)
            if _known_place(compact):
                return compact
        except NumberInvalid:
            pass
    except NumberInvalid:
        pass
    raise ValidationError(errors=[{"field": "id_number", "message": _(
        "This is not a valid resident ID number: check the 18 characters (the last may be X).")}])


def _known_place(number: str) -> bool:
    """Whether the number's first six digits name a county the place list knows (in any year); the
    rest of the number is valid (``validate`` got as far as the place)."""
    info = {key for _part, props in numdb.get("cn/loc").info(number[:6]) for key in props}
    return "county" in info


def id_hash(number: str) -> str:
    """The keyed hash an ID number is kept as (``number`` already normalised)."""
    key = str(current_app.config["ID_NUMBER_KEY"]).encode()
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def masked_id_number(number: str) -> str:
    return number[:2] + "*" * (len(number) - 4) + number[-2:]


def has_profile(user: User) -> bool:
    return bool(user.id_hash and user.district)


def groups_of(user: User, now: dt.datetime) -> frozenset[str]:
    """The groups reserved quotas can be kept for that ``user`` belongs to at ``now``."""
    groups = set()
    if user.birth_year and city_day(now).year - user.birth_year >= current_app.config["ELDERLY_AGE"]:
        groups.add(ELDERLY)
    if user.low_income:
        groups.add(LOW_INCOME)
    return frozenset(groups)


def profile_of(user: User, id_number: str | None = None) -> dict:
    """What the API and the profile page show. Nothing of the ID number is kept but its hash, so
    ``id_number_masked`` is known only in the answer to the request that sent it; afterwards the
    profile says whether one is bound. ``verified``: a community worker saw the ID card."""
    return {"district": user.district, "birth_year": user.birth_year,
            "id_number_masked": masked_id_number(id_number) if id_number else None,
            "id_number_bound": bool(user.id_hash), "verified": user.registered_by is not None,
            "complete": has_profile(user)}


def bind_profile(user_id: str, district: str, birth_year: int | None, id_number: str, now: dt.datetime, *,
                 districts: Collection[str]) -> tuple[User, str]:
    """Set a resident's profile; returns the user and the normalised number (for the answer's mask).

    ``districts`` are the city's district codes (the campaigns package knows them). The birth year,
    when given, must agree with the one the ID number carries; when left out it is taken from it.
    An ID number another account bound first makes this account count as that person.
    """
    number = normalised_id_number(id_number)
    born = ric.get_birth_date(number).year
    errors = []
    if district not in districts:
        errors.append({"field": "district", "message": _("Choose one of the city's districts.")})
    if birth_year is not None and birth_year != born:
        errors.append({"field": "birth_year", "message": _("The birth year does not match the ID number.")})
    if errors:
        raise ValidationError(errors=errors)
    digest = id_hash(number)
    with audited("resident.profile", "user", user_id, user_id, now) as detail:
        user = db.session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound()
        if user.id_hash and user.id_hash != digest:
            raise Conflict(_("Your account already has another ID number. Please ask the commerce bureau "
                             "or your community worker to change it."))
        if not user.id_hash:
            user.id_hash = digest
            user.low_income = user.low_income or in_group(LOW_INCOME, digest)
            user.person_id = person_with(digest, user.id)
            detail["shares_limits_with_another_account"] = user.person_id is not None
        user.district, user.birth_year, user.updated_at = district, born, now
    return user, number


def person_with(digest: str, user_id: str) -> str | None:
    """The person an ID number already belongs to: the account that bound it first, or None."""
    first = db.session.execute(select(User.id, User.person_id).where(User.id_hash == digest, User.id != user_id)
                               .order_by(User.created_at, User.id).limit(1)).first()
    return (first.person_id or first.id) if first else None


def in_group(group: str, digest: str) -> bool:
    """Whether the bureau put the person with this ID-number hash in ``group``."""
    return db.session.get(GroupMember, (group, digest)) is not None


def set_group(group: str, id_numbers: list[str], member: bool, actor: User, now: dt.datetime) -> dict:
    """Put the people with these ID numbers in ``group`` (the bureau's list, e.g. from the civil affairs
    bureau), or take them out: every account that bound one of the numbers, and any that binds one
    later. Only the hashes are kept; the audit record counts, it names no one."""
    if group != LOW_INCOME:  # the elderly are known by their birth year, not by a list
        raise ValidationError(errors=[{"field": "group", "message": _("Only the low-income group is set by list.")}])
    hashes, errors = set(), []
    for index, number in enumerate(id_numbers):
        try:
            hashes.add(id_hash(normalised_id_number(number)))
        except ValidationError:
            errors.append({"field": f"id_numbers.{index}", "message": _(
                "Line %(n)d is not a valid resident ID number.", n=index + 1)})
    if errors or not hashes:
        raise ValidationError(errors=errors or [{"field": "id_numbers", "message": _("Give at least one ID number.")}])
    with audited("residents.group", "group", group, actor.id, now) as detail:
        known = set(db.session.scalars(select(GroupMember.id_hash).where(GroupMember.group == group,
                                                                         GroupMember.id_hash.in_(hashes))))
        if member:
            db.session.add_all(GroupMember(group=group, id_hash=digest, set_by=actor.id, set_at=now)
                               for digest in hashes - known)
        elif known:
            db.session.execute(delete(GroupMember).where(GroupMember.group == group, GroupMember.id_hash.in_(known)))
        accounts = db.session.execute(update(User).where(User.id_hash.in_(hashes))
                                      .values(low_income=member, updated_at=now)).rowcount
        detail.update(member=member, people=len(hashes), accounts=accounts)
    return {"group": group, "member": member, "people": len(hashes), "accounts": accounts,
            "members": group_size(group)}


def group_size(group: str) -> int:
    return db.session.scalar(select(func.count()).select_from(GroupMember).where(GroupMember.group == group)) or 0
