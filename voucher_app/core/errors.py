"""Every refusal the platform gives, with its stable code, and the one place that turns them into responses.

A service raises a ``DomainError`` subclass carrying the stable API ``code``; the API answers with
``application/problem+json`` (RFC 9457) and the pages with a friendly page in the user's language.
"""
from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy.exc
from flask import Flask, Response, current_app, json, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A refusal the user can understand; ``code`` is stable and machine-readable."""

    code = "error"
    status = 400
    title = _l("The request could not be completed.")

    def __init__(self, detail: Any = None, *, errors: list[dict[str, str]] | None = None, **extra: Any):
        super().__init__(detail or self.title)  # translated only if someone reads it
        self.detail = detail
        self.errors = errors or []
        self.extra = extra


class ValidationError(DomainError):
    code, status, title = "validation_error", 422, _l("Some fields need correcting.")


class Unauthorized(DomainError):
    code, status, title = "unauthorized", 401, _l("Please sign in first.")


class SessionExpired(DomainError):
    """The person's sign-in ended (or the session cookie is gone) while a form was open: 400 when the
    form's CSRF token can no longer be checked, 401 when a page needs a sign-in that has ended."""

    code, status, title = "session_expired", 401, _l("Your session has expired. Please sign in again.")

    def __init__(self, detail: Any = None, *, status: int = 401, **extra: Any):
        super().__init__(detail, **extra)
        self.status = status


class Forbidden(DomainError):
    code, status, title = "forbidden", 403, _l("You are not allowed to do that.")


class NotFound(DomainError):
    code, status, title = "not_found", 404, _l("We could not find that.")


class RateLimited(DomainError):
    code, status, title = "rate_limited", 429, _l("Too many requests. Please wait a moment and try again.")


class Conflict(DomainError):
    code, status, title = "conflict", 409, _l("That conflicts with the current state.")


class IdempotencyConflict(DomainError):
    code, status, title = (
        "idempotency_conflict", 409, _l("This Idempotency-Key was already used for a different request."))


class OtpInvalid(DomainError):
    code, status, title = "otp_invalid", 401, _l("The code is wrong. Please check the SMS and try again.")


class OtpExpired(DomainError):
    code, status, title = "otp_expired", 401, _l("The code has expired. Please ask for a new one.")


class OtpUsed(DomainError):
    code, status, title = "otp_used", 401, _l("The code has already been used. Please ask for a new one.")


class OtpLocked(DomainError):
    code, status, title = "otp_locked", 401, _l("Too many wrong tries. Please ask for a new code.")


class InvalidCredentials(DomainError):
    code, status, title = "invalid_credentials", 401, _l("Wrong username or password.")


class AccountLocked(DomainError):
    code, status, title = "account_locked", 429, _l(
        "Too many wrong passwords for this username. Sign-in is locked for a while.")


class TotpRequired(DomainError):
    code, status, title = "totp_required", 401, _l(
        "Enter the 6-digit code from your authenticator app (or a recovery code).")


class TotpInvalid(DomainError):
    code, status, title = "totp_invalid", 401, _l(
        "The authenticator code is wrong or out of date. Enter the code the app shows now.")


# Refusals of the claim path ----------------------------------------------------------------------

class NotOpen(DomainError):
    code, status, title = "not_open", 409, _l("Claiming has not opened yet.")


class SoldOut(DomainError):
    code, status, title = "sold_out", 409, _l("Sold out. Please try the next round.")


class LimitReached(DomainError):
    code, status, title = "limit_reached", 409, _l("You have reached the limit for this campaign.")


class CampaignClosed(DomainError):
    code, status, title = "campaign_closed", 409, _l("This campaign has ended.")


class TooEarly(DomainError):
    code, status, title = "too_early", 409, _l("It is too early for that.")


class NotEligible(DomainError):
    code, status, title = "not_eligible", 403, _l("This is not available to you.")


# Refusals at the till ---------------------------------------------------------------------------

class TokenMissing(DomainError):
    """The till was sent nothing to read: no scan and no typed code."""

    code, status, title = "token_missing", 422, _l(
        "Nothing was scanned. Scan the customer's QR code or type the code from their screen.")


class InvalidToken(DomainError):
    code, status, title = "invalid_token", 422, _l("This QR code is not a valid voucher.")


class CodeLocked(DomainError):
    code, status, title = "code_locked", 429, _l(
        "Too many wrong codes were typed for this voucher. Scan the customer's QR code instead.")


class TokenExpired(DomainError):
    code, status, title = "token_expired", 422, _l("This QR code has expired. Ask the customer to refresh it.")


class VoucherExpired(DomainError):
    code, status, title = "voucher_expired", 409, _l("This voucher has expired.")


class VoucherRevoked(DomainError):
    code, status, title = "voucher_revoked", 409, _l("This voucher has been revoked.")


class AlreadyRedeemed(DomainError):
    code, status, title = "already_redeemed", 409, _l("This voucher has already been used.")


class MerchantNotEnrolled(DomainError):
    code, status, title = ("merchant_not_enrolled", 403,
                           _l("This shop does not take part in the voucher's campaign."))


class OutsideHours(DomainError):
    code, status, title = "outside_hours", 409, _l("This voucher cannot be used at this time.")


class BelowThreshold(DomainError):
    code, status, title = "below_threshold", 422, _l("The bill does not reach the voucher's threshold.")


class ClawedBack(DomainError):
    """A confirmed fraud flag took this sale's subsidy back; it can no longer be refunded."""

    code, status, title = "clawed_back", 409, _l(
        "The commerce bureau has clawed back this sale's subsidy after a fraud review; it cannot be refunded.")


class MerchantSuspended(DomainError):
    """The bureau has suspended the shop: its owner and cashiers may look, but not act."""

    code, status, title = "merchant_suspended", 403, _l(
        "This shop is suspended by the commerce bureau and cannot do that until it is reinstated.")


class PrintingUnavailable(DomainError):
    """The server cannot make printed vouchers (no font with Chinese characters is installed)."""

    code, status, title = "printing_unavailable", 503, _l(
        "Printing vouchers is not available on this server right now. Please try again later.")


class Busy(DomainError):
    """The database cannot be reached or is saturated right now. Nothing was done: the request may be
    sent again (with the same Idempotency-Key) after ``Retry-After`` seconds."""

    code, status, title = "busy", 503, _l("The service is very busy right now. Please try again in a moment.")


class ConfigurationError(Exception):
    """The configuration is unsafe or incomplete; the message says what to set."""


def wants_json() -> bool:
    """API paths always answer JSON; pages answer HTML."""
    return request.path.startswith("/api/")


def problem(status: int, code: str, title: str, detail: str | None = None, **extra: Any) -> Response:
    body = {"type": f"about:blank#{code}" if code else "about:blank", "title": title, "status": status,
            "detail": detail or title, "code": code}
    body.update(extra)
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json")


def _render(status: int, code: str, title: str, detail: str | None = None, **extra: Any):
    if wants_json():
        return problem(status, code, title, detail, **extra)
    return render_template("error.html", status=status, code=code, title=title, detail=detail,
                           errors=extra.get("errors", [])), status


_HTTP_CODES = {
    400: ("validation_error", _l("The request could not be read.")),
    401: ("unauthorized", _l("Please sign in first.")),
    403: ("forbidden", _l("You are not allowed to do that.")),
    404: ("not_found", _l("We could not find that.")),
    405: ("method_not_allowed", _l("That action is not available here.")),
    413: ("validation_error", _l("The request is too large.")),
    415: ("validation_error", _l("Send the request body as JSON.")),
}


_SQLITE_UNAVAILABLE = ("locked", "busy", "disk", "full", "unable to open")
_BUSY_RETRY_AFTER = "voucher.busy_retry_after"


def keep_busy_retry_after(app: Flask) -> None:
    """Register before Flask-Limiter: after-request functions run in reverse order, so this one runs after
    the limiter's, which sets ``Retry-After`` on every limited response to when its window resets (up to a
    minute) and would make a busy answer's clients wait that long instead of a moment."""

    @app.after_request
    def _busy_retry_after(response: Response) -> Response:
        seconds = response.headers.get(_BUSY_RETRY_AFTER)
        if seconds is not None:
            del response.headers[_BUSY_RETRY_AFTER]
            response.headers["Retry-After"] = seconds
        return response


def _unavailable(err: Exception) -> bool:
    orig = getattr(err, "orig", None) or err
    if isinstance(orig, sqlite3.Error):
        return any(word in str(orig) for word in _SQLITE_UNAVAILABLE)
    return True


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError):
        title = str(err.title)
        detail = str(err.detail) if err.detail else title
        extra = dict(err.extra)
        if err.errors:
            extra["errors"] = err.errors
        return _render(err.status, err.code, title, detail, **extra)

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(err: RateLimitExceeded):
        title = str(RateLimited.title)
        response = _render(429, RateLimited.code, title, title)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        status = err.code or 500
        code, title = _HTTP_CODES.get(status, ("error", _l("The request could not be completed.")))
        return _render(status, code, str(title))

    @app.errorhandler(sqlalchemy.exc.OperationalError)
    @app.errorhandler(sqlalchemy.exc.InterfaceError)
    @app.errorhandler(sqlalchemy.exc.TimeoutError)
    @app.errorhandler(sqlalchemy.exc.DisconnectionError)
    @app.errorhandler(sqlite3.OperationalError)  # raised bare by the BEGIN IMMEDIATE of database._begin_immediate
    def _database_unavailable(err: Exception):
        """A lost, refused or saturated database answers fast with ``busy`` instead of a 500 or a hang:
        the wallet and the till resend after Retry-After. What the database said is logged (its class
        and first line: never the statement's parameters). SQLite's other operational errors (a
        missing table …) are faults, not load: they stay 500."""
        if not _unavailable(err):
            return _unexpected(err)
        reason = str(getattr(err, "orig", None) or err).splitlines()[0][:200]
        current_app.logger.warning("database unavailable on %s %s: %s: %s", request.method, request.path,
                                   type(getattr(err, "orig", None) or err).__name__, reason)
        title = str(Busy.title)
        if wants_json():
            response = problem(Busy.status, Busy.code, title, title)
        else:  # a page of its own: the site's usual header reads the database
            response = make_response(render_template("busy.html", title=title), Busy.status)
        seconds = str(current_app.config.get("BUSY_RETRY_AFTER_SECONDS", 2))
        response.headers["Retry-After"] = response.headers[_BUSY_RETRY_AFTER] = seconds
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500, "internal_error", str(_l("Something went wrong on our side. Please try again.")))
