"""Sign-in over the API and on the pages; both call the same services."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..api import api_user, listing, roles_required
from ..clock import now
from ..errors import DomainError, NotFound
from ..extensions import db, limiter
from ..pages import local_path
from ..validation import json_body, validate
from . import service
from .forms import CodeRequestForm, ResidentLoginForm, StaffLoginForm
from .models import OutboxMessage
from .phones import mask_phone, normalize_phone
from .schemas import OtpLogin, OtpRequest, PasswordLogin, user_out
from .sms import outbox_enabled

api = Blueprint("accounts_api", __name__)
pages = Blueprint("accounts", __name__)
dev_api = Blueprint("dev_api", __name__)
dev_pages = Blueprint("dev", __name__)


def _phone_key() -> str:
    data = request.get_json(silent=True) if request.is_json else request.form
    raw = str(data.get("phone", "")) if hasattr(data, "get") else ""
    return "phone:" + (normalize_phone(raw) or raw[:32])


# Shared scopes: the API and the sign-in page draw on the same buckets.
otp_per_phone = limiter.shared_limit(lambda: current_app.config["OTP_LIMIT_PER_PHONE"], scope="otp-phone",
                                     key_func=_phone_key)
otp_per_ip = limiter.shared_limit(lambda: current_app.config["OTP_LIMIT_PER_IP"], scope="otp-ip")
token_per_ip = limiter.shared_limit(lambda: current_app.config["TOKEN_LIMIT_PER_IP"], scope="token-ip")


# API ------------------------------------------------------------------------------------------------

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
        user = service.sign_in_with_password(creds.username, creds.password, now())
    else:
        otp = json_body(OtpLogin)
        user = service.sign_in_with_otp(otp.phone, otp.code, now())
    return jsonify(service.issue_token(user))


@api.get("/me")
@roles_required()
def me():
    return jsonify(user_out(api_user(), owner=True))


# Pages ----------------------------------------------------------------------------------------------

@pages.route("/login", methods=["GET"])
def login():
    """Residents sign in with their phone and an SMS code."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    # The number waits in the session, not the URL, so it stays out of history and access logs.
    phone = session.get("login_phone", "")
    return render_template("accounts/login.html", code_form=CodeRequestForm(phone=phone),
                           login_form=ResidentLoginForm(phone=phone), code_sent=bool(phone))


@pages.post("/login/code")
@otp_per_ip
@otp_per_phone
def send_code():
    form = CodeRequestForm()
    if form.validate_on_submit():
        service.request_otp(form.phone.data, now())
        flash(_("We sent a 6-digit code to %(phone)s.", phone=mask_phone(form.phone.data)), "success")
        session["login_phone"] = form.phone.data
        return redirect(url_for("accounts.login", next=request.args.get("next")))
    return render_template("accounts/login.html", code_form=form, login_form=ResidentLoginForm(),
                           code_sent=False), 422


@pages.post("/login")
def login_with_code():
    form = ResidentLoginForm()
    if form.validate_on_submit():
        try:
            user = service.sign_in_with_otp(form.phone.data, form.code.data.strip(), now())
        except DomainError as err:
            form.code.errors.append(str(err.title))
        else:
            session.pop("login_phone", None)
            login_user(user, remember=True)
            flash(_("Signed in."), "success")
            return redirect(_safe_next() or url_for("pages.home"))
    return render_template("accounts/login.html", code_form=CodeRequestForm(phone=form.phone.data),
                           login_form=form, code_sent=True), 422


@pages.route("/staff/login", methods=["GET", "POST"])
def staff_login():
    """Bureau officers, merchant owners and cashiers sign in with a username and password."""
    form = StaffLoginForm()
    if form.validate_on_submit():
        try:
            user = service.sign_in_with_password(form.username.data, form.password.data, now())
        except DomainError as err:
            form.password.errors.append(str(err.title))
        else:
            login_user(user)
            flash(_("Signed in."), "success")
            return redirect(_safe_next() or url_for("pages.home"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/staff_login.html", form=form), status


@pages.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("Signed out."), "success")
    return redirect(url_for("pages.home"))


def _safe_next() -> str | None:
    """Only a path on this site, never another host (open redirects)."""
    return local_path(request.args.get("next"))


# Development outbox ---------------------------------------------------------------------------------

def _outbox(phone: str | None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc()).limit(50)
    if phone:
        query = query.where(OutboxMessage.phone == (normalize_phone(phone) or phone))
    return list(db.session.scalars(query))


@dev_api.before_request
@dev_pages.before_request
def _only_in_development():
    if not outbox_enabled():
        raise NotFound()


@dev_api.get("/dev/outbox")
def outbox():
    return listing({"phone": m.phone, "text": m.text, "sent_at": m.sent_at.isoformat()}
                   for m in _outbox(request.args.get("phone")))


@dev_pages.get("/dev/outbox")
def outbox_page():
    """What the development SMS sender "sent", so a tester can sign in without a phone."""
    phone = request.args.get("phone", "")
    return render_template("accounts/outbox.html", messages=_outbox(phone), phone=phone)
