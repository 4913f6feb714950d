"""Site-wide pages: home, language and text-size switches, and the health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for

from campaigns.service import city_name
from voucher_app.core.http import local_path

pages = Blueprint("pages", __name__)

ONE_YEAR = 365 * 24 * 3600


@pages.get("/")
def home():
    return render_template("home.html", city=city_name())


@pages.get("/lang/<code>")
def set_language(code: str):
    """Remember the visitor's language in a cookie and go back where they were."""
    response = redirect(_back())
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie("lang", code, max_age=ONE_YEAR, samesite="Lax")
    return response


@pages.get("/display/<size>")
def set_text_size(size: str):
    """Large type for elderly residents, remembered in a cookie."""
    response = redirect(_back())
    if size in ("large", "normal"):
        response.set_cookie("text", size, max_age=ONE_YEAR, samesite="Lax")
    return response


@pages.get("/api/v1/health")
def health():
    """Answers without touching the database: for load balancers, and the ceiling of benchmarks."""
    return jsonify({"status": "ok"})


def _back() -> str:
    target = request.args.get("next") or request.referrer or ""
    if target.startswith(request.host_url):
        target = "/" + target[len(request.host_url):]
    return local_path(target) or url_for("pages.home")
