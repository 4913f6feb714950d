"""Sign-in pages for residents (phone and SMS code) and staff, a resident's profile, and the development SMS
outbox."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from campaigns.service import list_districts
from voucher_app.accounts import profile, service, sign_ins, totp
from voucher_app.accounts.forms import (
    CodeRequestForm,
    GroupListForm,
    ProfileForm,
    ResidentLoginForm,
    StaffLoginForm,
    TotpConfirmForm,
)
from voucher_app.accounts.guards import (
    RESIDENT_SIGN_IN,
    STAFF_SIGN_IN,
    development_only,
    page_roles_required,
    sign_in_page,
)
from voucher_app.accounts.limits import otp_per_ip, otp_per_phone, staff_login_per_ip
from voucher_app.accounts.models import User
from voucher_app.accounts.sms import outbox_messages
from voucher_app.core.clock import now
from voucher_app.core.errors import (
    DomainError,
    SessionExpired,
    TotpInvalid,
    TotpRequired,
    ValidationError,
    problem,
    wants_json,
)
from voucher_app.core.extensions import db
from voucher_app.core.http import local_path, referred_path
from voucher_app.core.phones import mask_phone
from voucher_app.core.roles import STAFF, Role

pages = Blueprint("accounts", __name__, template_folder="templates")


@pages.after_request
def _remember_device(response):
    """Give the browser a long-lived random device id (``sign_ins.origin``) if it has none."""
    if not request.cookies.get(sign_ins.DEVICE_COOKIE):
        response.set_cookie(sign_ins.DEVICE_COOKIE, sign_ins.browser_device_id(),
                            max_age=sign_ins.DEVICE_COOKIE_SECONDS, httponly=True, samesite="Lax",
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


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
            login_user(service.start_web_session(user, now()), remember=True)
            flash(_("Signed in."), "success")
            return redirect(_safe_next() or url_for("pages.home"))
    return render_template("accounts/login.html", code_form=CodeRequestForm(phone=form.phone.data),
                           login_form=form, code_sent=True), 422


@pages.route("/staff/login", methods=["GET", "POST"])
@staff_login_per_ip
def staff_login():
    """Bureau officers, merchant owners and cashiers sign in with a username and password."""
    form = StaffLoginForm()
    if form.validate_on_submit():
        try:
            user = service.sign_in_with_password(form.username.data, form.password.data, now(),
                                                 form.totp.data or None)
        except (TotpRequired, TotpInvalid) as err:
            form.totp.errors.append(str(err.detail or err.title))
        except DomainError as err:
            form.password.errors.append(str(err.detail or err.title))
        else:
            login_user(service.start_web_session(user, now()))
            flash(_("Signed in."), "success")
            return redirect(_safe_next() or _home_of(user))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/staff_login.html", form=form), status


@pages.route("/staff/security", methods=["GET", "POST"])
@page_roles_required(*STAFF)
def staff_security():
    """A staff member's second factor: set up the authenticator (a QR to scan, recovery codes shown
    once), confirm it with the first code; then signing in needs a code too."""
    form = TotpConfirmForm()
    enrolment, status = None, 200
    if request.method == "POST" and request.form.get("step") == "begin":
        try:
            enrolment = totp.begin(current_user.id, now())
        except DomainError as err:
            flash(str(err.detail or err.title), "error")
    elif request.method == "POST" and form.validate_on_submit():
        try:
            totp.confirm(current_user.id, form.code.data, now())
        except DomainError as err:
            form.code.errors.append(str(err.detail or err.title))
            status = 422
        else:
            flash(_("Your authenticator is on: signing in now asks for its code."), "success")
            return redirect(url_for("accounts.staff_security"))
    elif request.method == "POST":
        status = 422
    user = db.session.get(User, current_user.id)
    return render_template("accounts/security.html", form=form, enrolment=enrolment, enabled=totp.enabled(user),
                           pending=bool(user.totp_secret) and not totp.enabled(user),
                           required=totp.required(user), left=totp.recovery_codes_left(user.id),
                           qr_svg=totp.qr_svg(enrolment.otpauth_uri) if enrolment else None), status


@pages.route("/me/profile", methods=["GET", "POST"])
@page_roles_required(Role.resident)
def profile_page():
    """District, birth year and ID number, with why the number is asked and how little of it is kept."""
    user = db.session.get(User, current_user.id)
    districts = list_districts()
    form = ProfileForm(district=user.district, birth_year=str(user.birth_year or ""))
    form.district.choices = [("", _("Choose your district"))] + [(d["code"], d["name"]) for d in districts]
    status = 200
    if form.validate_on_submit():
        try:
            user, number = profile.bind_profile(
                user.id, form.district.data, int(form.birth_year.data) if form.birth_year.data.strip() else None,
                form.id_number.data, now(), districts={d["code"] for d in districts})
        except ValidationError as err:
            for error in err.errors:
                getattr(form, error["field"], form.id_number).errors.append(error["message"])
        except DomainError as err:
            form.id_number.errors.append(str(err.detail or err.title))
        else:
            flash(_("Saved. Your ID number %(masked)s is bound to this account.",
                    masked=profile.masked_id_number(number)), "success")
            return redirect(url_for("accounts.profile_page"))
    if request.method == "POST":
        status = 422
    return render_template("accounts/profile.html", form=form, profile=profile.profile_of(user)), status


@pages.route("/bureau/residents/low-income", methods=["GET", "POST"])
@page_roles_required(Role.admin)
def low_income_page():
    """The bureau's list of low-income residents (for reserved quotas), kept by ID-number hash only."""
    form = GroupListForm()
    status = 200
    if form.validate_on_submit():
        numbers = [line.strip() for line in form.id_numbers.data.splitlines() if line.strip()]
        try:
            outcome = profile.set_group(profile.LOW_INCOME, numbers, form.member.data == "add", current_user, now())
        except ValidationError as err:
            form.id_numbers.errors.extend(error["message"] for error in err.errors)
        else:
            flash(_("%(people)d people updated (%(accounts)d accounts); the group now has %(members)d people.",
                    **{k: outcome[k] for k in ("people", "accounts", "members")}), "success")
            return redirect(url_for("accounts.low_income_page"))
    if request.method == "POST":
        status = 422
    return render_template("accounts/low_income.html", form=form,
                           members=profile.group_size(profile.LOW_INCOME)), status


@pages.post("/logout")
@login_required
def logout():
    """Ends this session on the server too, so a copied session or remember-me cookie is worthless."""
    service.sign_out(current_user, now())
    logout_user()
    flash(_("Signed out."), "success")
    return redirect(url_for("pages.home"))


# Where a staff role lands after signing in, when that page is installed (others: the home page).
STAFF_HOMES = {Role.community_worker: "community.home"}


def _home_of(user: User) -> str:
    endpoint = STAFF_HOMES.get(user.role)
    return url_for(endpoint if endpoint in current_app.view_functions else "pages.home")


def _safe_next() -> str | None:
    """Only a path on this site, never another host (open redirects)."""
    return local_path(request.args.get("next"))


# A form sent after its session ended ------------------------------------------------------------------

# The sign-in forms themselves: a refused one offers its own page again, and is no place to come back to.
_SIGN_IN_FORMS = {RESIDENT_SIGN_IN: RESIDENT_SIGN_IN, "accounts.send_code": RESIDENT_SIGN_IN,
                  "accounts.login_with_code": RESIDENT_SIGN_IN, STAFF_SIGN_IN: STAFF_SIGN_IN}


@pages.app_errorhandler(CSRFError)
def _form_expired(err: CSRFError):
    """A form whose CSRF token cannot be checked: the session cookie that held it is gone (expired,
    cleared, another browser). Nothing is done; the person is told to sign in again (400)."""
    return _session_expired(SessionExpired(status=400))


@pages.app_errorhandler(SessionExpired)
def _session_expired(err: SessionExpired):
    """problem+json for the API and the pages' scripts; for a page, the sign-in offered with a ``next``
    that comes back to the page the form was on, where ``static/js/keep_forms.js`` puts back what was typed."""
    title = str(err.title)
    if wants_json() or request.is_json:
        return problem(err.status, err.code, title, str(err.detail or title))
    back = return_path()
    return render_template("session_expired.html", code=err.code, title=title, back=back,
                           signed_in=current_user.is_authenticated,
                           sign_ins=[(url_for(endpoint, next=back), endpoint == STAFF_SIGN_IN)
                                     for endpoint in _sign_in_pages()]), err.status


def return_path() -> str | None:
    """The page to come back to after signing in again: the page the form was on (the Referer, when it
    is a page of this site), else the form's own address, when it is a page one can open (an address
    that only takes posts, such as ``/till/redeem``, is not); never a sign-in page."""
    for candidate in (referred_path(request.referrer, request.host_url), request.full_path.rstrip("?")):
        endpoint = _page_at(candidate)
        if endpoint and endpoint not in _SIGN_IN_FORMS:
            return candidate
    return None


def _page_at(path: str | None) -> str | None:
    """The endpoint of the page a GET of ``path`` opens, if any."""
    path = local_path(path)
    if not path or path.startswith("/api/"):
        return None
    try:
        endpoint, _args = current_app.url_map.bind(request.host).match(urlsplit(path).path, method="GET")
    except HTTPException:
        return None
    return endpoint


def _sign_in_pages() -> list[str]:
    """The sign-in page the form's people use (both when the form is open to everyone)."""
    if request.endpoint in _SIGN_IN_FORMS:
        return [_SIGN_IN_FORMS[request.endpoint]]
    roles = getattr(current_app.view_functions.get(request.endpoint or ""), "page_roles", None)
    if roles:
        return [sign_in_page(roles)]
    return [RESIDENT_SIGN_IN, STAFF_SIGN_IN]


@dev_pages.get("/dev/outbox")
def outbox_page():
    """What the development SMS sender "sent", so a tester can sign in without a phone."""
    phone = request.args.get("phone", "")
    return render_template("accounts/outbox.html", messages=outbox_messages(phone), phone=phone)
