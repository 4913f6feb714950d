"""Sign-in pages for residents (phone and SMS code) and staff, and the development SMS outbox."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from voucher_app.accounts import service
from voucher_app.accounts.forms import CodeRequestForm, ResidentLoginForm, StaffLoginForm
from voucher_app.accounts.guards import development_only
from voucher_app.accounts.limits import otp_per_ip, otp_per_phone
from voucher_app.accounts.sms import outbox_messages
from voucher_app.core.clock import now
from voucher_app.core.errors import DomainError
from voucher_app.core.http import local_path
from voucher_app.core.phones import mask_phone

pages = Blueprint("accounts", __name__, template_folder="templates")


dev_pages = Blueprint("dev", __name__)
dev_pages.before_request(development_only)


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


@dev_pages.get("/dev/outbox")
def outbox_page():
    """What the development SMS sender "sent", so a tester can sign in without a phone."""
    phone = request.args.get("phone", "")
    return render_template("accounts/outbox.html", messages=outbox_messages(phone), phone=phone)
