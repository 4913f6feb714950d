"""Languages: which one a request is answered in, and the city's bilingual data shown in it.

Chinese is the default and English the other language (``LANGUAGES``). Text in code goes through
Flask-Babel; text that comes with the city's data (districts, measures, the plan's targets) is stored
in both languages as ``<field>_zh`` / ``<field>_en`` columns and picked here.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from babel import Locale
from flask import request
from flask_babel import format_datetime, get_locale

from voucher_app.core.clock import to_city


def locale_selector(languages: Iterable[str], default_language: str) -> Callable[[], Locale]:
    """Flask-Babel's selector: ``?lang=`` or the ``lang`` cookie (the pages' switch), then the API's
    ``Accept-Language``, else the default. Locales are parsed once, not on every request."""
    locales = {code: Locale.parse(code) for code in languages}
    default = locales.get(default_language) or Locale.parse(default_language)

    def select_locale() -> Locale:
        if not request:
            return default
        # Most requests name no language: parsing their query string and cookies into dictionaries
        # just to find that out was a tenth of a refused claim's time in a rush.
        environ = request.environ
        if "lang=" in environ.get("QUERY_STRING", "") or "lang=" in environ.get("HTTP_COOKIE", ""):
            choice = request.args.get("lang") or request.cookies.get("lang")
            if choice in locales:
                return locales[choice]
        if "HTTP_ACCEPT_LANGUAGE" in environ and request.path.startswith("/api/"):
            return locales.get(request.accept_languages.best_match(locales)) or default
        return default

    return select_locale


def in_english() -> bool:
    """Whether this request is answered in English (else Chinese)."""
    return str(get_locale()) == "en"


def localized(obj: object, field: str) -> str:
    """``obj.<field>_en`` or ``obj.<field>_zh``, whichever language this request is answered in."""
    return getattr(obj, f"{field}_en" if in_english() else f"{field}_zh")


def join_list(items: Iterable[object], locale: Locale | str | None = None) -> str:
    """Names as one phrase in the request's language (or ``locale``'s): 利州区、昭化区 / Lizhou, Zhaohua.

    The separator is the one CLDR puts between the middle items of a list (Babel's
    ``list_patterns``), used for every item: these lists name alternatives (the districts where a
    voucher may be spent), which ``babel.lists.format_list`` would end with 和 / "and" and misstate.
    """
    pattern = Locale.parse(locale or get_locale()).list_patterns["standard"]["middle"]
    words = [str(item) for item in items]
    phrase = words[0] if words else ""
    for word in words[1:]:
        phrase = pattern.format(phrase, word)
    return phrase


def city_datetime(value: dt.datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A stored (UTC) time as people read it: in the city's zone, formatted for the request's language."""
    return format_datetime(to_city(value), fmt) if value else ""


def iso_city(value: str | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """An ISO 8601 time from an API body, shown in the city's zone."""
    return city_datetime(dt.datetime.fromisoformat(value), fmt) if value else ""
