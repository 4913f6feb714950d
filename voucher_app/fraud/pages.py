"""The bureau's fraud review: the queue of flags, one flag with its evidence and the decision, and the
rules' thresholds. Officers (admin) decide and tune; viewers read."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voucher_app.accounts.guards import page_roles_required
from voucher_app.core.clock import now, parse_iso
from voucher_app.core.errors import DomainError, ValidationError
from voucher_app.core.roles import BUREAU, Role
from voucher_app.fraud import service
from voucher_app.fraud.rules import RULES
from voucher_app.fraud.schemas import FlagQuery

pages = Blueprint("fraud", __name__, template_folder="templates")


@pages.context_processor
def _helpers() -> dict:
    return {"flag_status": service.status_label, "age": _age}


def _age(iso_time: str | None) -> str:
    """How long ago, roughly: the queue shows how long a flag has waited."""
    if not iso_time:
        return ""
    hours = int((now() - parse_iso(iso_time)) / dt.timedelta(hours=1))
    if hours < 1:
        return _("less than an hour")
    if hours < 48:
        return _("%(n)d hours", n=hours)
    return _("%(n)d days", n=hours // 24)


@pages.get("/bureau/flags")
@page_roles_required(*BUREAU)
def flags_queue():
    """Flags by score, highest first; open ones unless the tabs say otherwise."""
    status = request.args.get("status", "open")
    query = FlagQuery.from_args({**request.args.to_dict(), "status": "" if status == "all" else status})
    flags, cursor = service.flags_page(query.status, query.cursor, query.limit)
    return render_template("fraud/queue.html", flags=flags, next_cursor=cursor, status=status,
                           counts=service.flag_counts())


@pages.get("/bureau/flags/<flag_id>")
@page_roles_required(*BUREAU)
def flag_page(flag_id: str):
    """One flag: the explanation, the evidence table, and (for officers) the decision."""
    return render_template("fraud/flag.html", flag=service.flag_detail(flag_id),
                           can_resolve=current_user.role is Role.admin, errors={}, note="")


@pages.post("/bureau/flags/<flag_id>/resolve")
@page_roles_required(Role.admin)
def resolve_flag(flag_id: str):
    outcome, note = request.form.get("outcome"), request.form.get("note", "")
    try:
        body = service.resolve(flag_id, outcome, note, current_user, now())
    except ValidationError as err:
        errors = {e["field"]: e["message"] for e in err.errors}
        return render_template("fraud/flag.html", flag=service.flag_detail(flag_id), can_resolve=True,
                               errors=errors, note=note), 422
    except DomainError as err:
        flash(str(err.detail or err.title) if err.code != "flag_resolved" else str(err.title), "error")
        return redirect(url_for(".flag_page", flag_id=flag_id))
    if body["status"] == "confirmed":
        clawback = body.get("clawback") or {}
        flash(_("Fraud confirmed for %(shop)s: %(n)d redemptions' subsidy (%(amount)s yuan) clawed back, and the "
                "shop's badge withdrawn.", shop=body["merchant_name"], n=clawback.get("redemptions", 0),
                amount=f"{clawback.get('cents', 0) / 100:.2f}"), "success")
    else:
        flash(_("Flag cleared for %(shop)s.", shop=body["merchant_name"]), "success")
    return redirect(url_for(".flag_page", flag_id=flag_id))


@pages.get("/bureau/fraud-rules")
@page_roles_required(*BUREAU)
def rules_page():
    """Each rule: what it looks for, on or off, and its thresholds (officers change them)."""
    return render_template("fraud/rules.html", rules=service.rule_settings(),
                           can_edit=current_user.role is Role.admin, errors={}, failed=None)


@pages.post("/bureau/fraud-rules/<code>")
@page_roles_required(Role.admin)
def update_rule(code: str):
    rule = RULES.get(code)
    params, errors = {}, {}
    for key, param in (rule.params.items() if rule else ()):
        raw = (request.form.get(key) or "").strip()
        if not raw:
            continue
        try:
            params[key] = param.kind(raw) if param.kind is int else float(raw)
        except ValueError:
            errors[f"params.{key}"] = _("Enter a whole number.") if param.kind is int else _("Enter a number.")
    if not errors:
        try:
            service.update_rule(code, request.form.get("enabled") == "on", params, current_user, now())
        except ValidationError as err:
            errors = {e["field"]: e["message"] for e in err.errors}
        else:
            flash(_("The rule “%(name)s” is saved. It applies from the next evaluation.", name=rule.name), "success")
            return redirect(url_for(".rules_page"))
    return render_template("fraud/rules.html", rules=service.rule_settings(), can_edit=True, errors=errors,
                           failed=code), 422
