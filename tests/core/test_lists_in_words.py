"""Lists of names in the reader's language (issue #20, item 5): 餐饮、零售 in Chinese, "Catering, Retail"
in English, never the Chinese enumeration comma in an English sentence."""
from __future__ import annotations

import pytest
from flask_babel import refresh

from tests.app.test_pages import text
from tests.campaigns.test_campaign_pages import admin, api_admin, app_overrides, draft  # noqa: F401  (fixtures)
from voucher_app.core.i18n import join_list


@pytest.mark.parametrize(("locale", "words"), [
    ("zh", "利州区、昭化区、旺苍县"), ("en", "Lizhou, Zhaohua, Wangcang"),
])
def test_names_are_joined_as_the_language_writes_a_list(app, locale, words):
    names = words.replace("、", ", ").split(", ")
    assert join_list(names, locale) == words
    assert join_list(names[:1], locale) == names[0]
    assert join_list([], locale) == ""


def test_the_request_language_is_the_default(app):
    for path, names, words in (("/?lang=en", ["Catering", "Retail"], "Catering, Retail"),
                               ("/", ["餐饮", "零售"], "餐饮、零售")):
        with app.test_request_context(path):
            refresh()  # the fixture's app context (and the locale cached in it) outlives each request
            assert join_list(names) == words


def test_an_english_page_lists_shop_kinds_and_districts_with_commas(admin, api_admin):  # noqa: F811
    campaign = draft(admin, api_admin)
    english = text(admin.get(f"/bureau/campaigns/{campaign['id']}", query_string={"lang": "en"}))
    chinese = text(admin.get(f"/bureau/campaigns/{campaign['id']}", query_string={"lang": "zh"}))
    assert "餐饮、零售" in chinese and "利州区、昭化区" in chinese
    assert "、" not in english
    assert "Catering, Retail" in english and "Lizhou District, Zhaohua District" in english, english
