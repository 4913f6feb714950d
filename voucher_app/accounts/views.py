"""Sign-in over the API (SMS codes, tokens), a resident's profile, and the development outbox; the
pages call the same services."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from campaigns.service import list_districts
from voucher_app.accounts import profile, service, totp
from voucher_app.accounts.guards import api_user, development_only, roles_required
from voucher_app.accounts.limits import otp_per_ip, otp_per_phone, token_per_ip
from voucher_app.accounts.schemas import (
    GroupIn,
    OtpLogin,
    OtpRequest,
    PasswordLogin,
    ProfileIn,
    TotpConfirm,
    user_out,
)
from voucher_app.accounts.sms import outbox_messages
from voucher_app.core.clock import now
from voucher_app.core.http import listing, no_store
from voucher_app.core.roles import STAFF, Role
from voucher_app.core.validation import json_body, validate

api = Blueprint("accounts_api", __name__)


dev_api = Blueprint("dev_api", __name__)
dev_api.before_request(development_only)


@api.post("/auth/otp")
@otp_per_ip
@otp_per_phone
def request_otp():
    body = json_body(OtpRequest)
    service.request_otp(body.phone, now())
    ttl = current_app.config["OTP_TTL_SECONDS"]
    return jsonify({"sent": True, "expires_in": ttl}), 202


@api.post("/auth/token")
@token_per_ip
def issue_token():
    data = request.get_json(silent=True)
    if isinstance(data, dict) and "username" in data:
        creds = validate(PasswordLogin, data)
        user = service.sign_in_with_password(creds.username, creds.password, now(), creds.totp)
    else:
        otp = json_body(OtpLogin)
        user = service.sign_in_with_otp(otp.phone, otp.code, now())
    return jsonify(service.issue_token(user))


@api.post("/auth/logout")
@roles_required()
def logout():
    """Revokes the bearer token that came with the request: the next call with it is ``unauthorized``."""
    service.sign_out(api_user(), now())
    return "", 204


@api.post("/me/totp")
@roles_required(*STAFF)
def begin_totp():
    """A new authenticator secret (and the recovery codes, shown only now); on after ``/me/totp/confirm``."""
    enrolment = totp.begin(api_user().id, now())
    return no_store(jsonify({"secret": enrolment.secret, "otpauth_uri": enrolment.otpauth_uri,
                             "recovery_codes": enrolment.recovery_codes}))


@api.post("/me/totp/confirm")
@roles_required(*STAFF)
def confirm_totp():
    totp.confirm(api_user().id, json_body(TotpConfirm).code, now())
    return "", 204


@api.get("/me")
@roles_required()
def me():
    return jsonify(user_out(api_user(), owner=True))


@api.get("/me/profile")
@roles_required(Role.resident)
def my_profile():
    """Whether an ID number is bound, never the number: only its keyed hash is kept."""
    return no_store(jsonify(profile.profile_of(api_user())))


@api.put("/me/profile")
@roles_required(Role.resident)
def bind_my_profile():
    """District, birth year and ID number; the answer shows the number masked, this once."""
    body = json_body(ProfileIn)
    user, number = profile.bind_profile(api_user().id, body.district, body.birth_year, body.id_number, now(),
                                        districts={d["code"] for d in list_districts()})
    return no_store(jsonify(profile.profile_of(user, number)))


@api.put("/residents/groups/<group>")
@roles_required(Role.admin)
def set_group(group: str):
    """The bureau's list of a group's people (low income), by ID number: added, or taken out."""
    body = json_body(GroupIn)
    return jsonify(profile.set_group(group, body.id_numbers, body.member, api_user(), now()))


@api.get("/residents/groups/<group>")
@roles_required(Role.admin, Role.viewer)
def group_size(group: str):
    return jsonify({"group": group, "members": profile.group_size(group)})


@dev_api.get("/dev/outbox")
def outbox():
    return listing({"phone": m.phone, "text": m.text, "sent_at": m.sent_at.isoformat()}
                   for m in outbox_messages(request.args.get("phone")))
