"""Issue #20, item 2, in the campaign editor: money is typed in yuan there, so every refusal of an amount
speaks yuan too. The API's limit (``MAX_CENTS``, in fen) is refused beside its input in yuan, in both
languages, and the API's own wording stays as it is."""
from __future__ import annotations

import pytest
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from campaigns.forms import EditorForm
from campaigns.schemas import MAX_CENTS
from tests.app.test_pages import text
from tests.builders import bearer, make_staff, staff_token
from tests.campaign_data import campaign_body
from tests.campaigns.test_campaign_pages import GOOD_FORM, editor_post, messages_for
from tests.campaigns.test_campaign_pages import admin as admin  # noqa: F401  (the signed-in bureau fixture)
from tests.campaigns.test_campaign_pages import app_overrides as app_overrides  # noqa: F401  (CSRF on)
from voucher_app.core.errors import ValidationError

TOO_MUCH = "10,000,000,000.01"  # one fen above the API's limit


def refusals(fields: dict, lang: str = "zh") -> dict[str, list[str]]:
    with force_locale(lang):
        form = EditorForm.from_request(MultiDict(fields))
        with pytest.raises(ValidationError):
            form.campaign_in()
        return form.errors


@pytest.mark.parametrize("name", ["budget", "tiers-0-threshold", "tiers-0-discount"])
def test_an_amount_above_the_limit_is_refused_in_yuan(app, name):
    assert refusals({**GOOD_FORM, name: TOO_MUCH})[name] == ["不能超过 ¥10,000,000,000。"]
    assert refusals({**GOOD_FORM, name: TOO_MUCH}, "en")[name] == ["Must be at most ¥10,000,000,000."]


def test_a_percent_tiers_cap_above_the_limit_is_refused_in_yuan(app):
    fields = {**GOOD_FORM, "tiers-0-kind": "percent", "tiers-0-percent": "20", "tiers-0-cap": TOO_MUCH,
              "tiers-0-discount": ""}
    assert refusals(fields)["tiers-0-cap"] == ["不能超过 ¥10,000,000,000。"]


def test_the_limit_itself_is_accepted(app):
    with force_locale("zh"):
        campaign = EditorForm.from_request(MultiDict({**GOOD_FORM, "budget": "10,000,000,000"})).campaign_in()
    assert campaign.budget_cents == MAX_CENTS


def test_the_editor_page_shows_the_yuan_message_beside_the_input(admin):
    page = text(editor_post(admin, "/bureau/campaigns/new", {**GOOD_FORM, "budget": TOO_MUCH}))
    assert messages_for(page, "budget") == ["不能超过 ¥10,000,000,000。"]
    assert str(MAX_CENTS) not in page


def test_the_api_keeps_its_fen_wording(client, city):
    headers = bearer(staff_token(client, make_staff().username))
    response = client.post("/api/v1/campaigns", json=campaign_body(budget_cents=MAX_CENTS + 1), headers=headers)
    assert response.status_code == 422
    assert {"field": "budget_cents", "message": f"不能大于 {MAX_CENTS}。"} in response.get_json()["errors"]
