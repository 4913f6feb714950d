"""Campaign pages: residents' list and campaign page (what is left, the next round, the claim button),
and the bureau's pages under /bureau/campaigns.

The pages call the same services with the same schemas as the API; ``forms.py`` turns the editor's
inputs into the API's body and back."""
from __future__ import annotations

import datetime as dt
import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from campaigns import forms, rules, service
from campaigns.labels import category_labels, district_names, kind_labels, reserved_text, tier_rule
from campaigns.lifecycle import effective_status, is_editable
from campaigns.models import Campaign, CampaignStatus
from voucher_app.accounts.guards import page_roles_required
from voucher_app.core import conditional
from voucher_app.core.clock import now
from voucher_app.core.errors import Conflict, ValidationError
from voucher_app.core.money import yuan_text
from voucher_app.core.roles import BUREAU, Role
from voucher_app.vouchers import availability, issuing

pages = Blueprint("campaigns", __name__, template_folder="templates")


# What residents see ----------------------------------------------------------------------------------

@pages.get("/campaigns")
def residents_campaigns():
    """Campaigns a resident can claim from now or soon, with what is left and the next round."""
    at = now()
    return conditional.page(render_template("campaigns/residents_list.html",
                                            campaigns=availability.campaigns_for_residents(at), now=at),
                            availability.COUNTS_MAX_AGE)


@pages.get("/campaigns/<campaign_id>")
def residents_campaign(campaign_id: str):
    """A campaign's page; signed in, its forms carry a claim key of their own (never shared, see ``page``)."""
    at = now()
    campaign = availability.campaign_for_residents(campaign_id, at)
    return conditional.page(render_template("campaigns/residents_campaign.html", campaign=campaign, now=at,
                                            claim_key=uuid.uuid4().hex, categories=category_labels(),
                                            districts=district_names()), availability.COUNTS_MAX_AGE)


# The bureau's pages ----------------------------------------------------------------------------------

@pages.context_processor
def _page_helpers() -> dict:
    # Constants only: residents' pages, the rush's hottest, share this blueprint (the bureau's pages
    # pass the campaign kinds' labels themselves).
    return {"money": yuan_text, "labels": forms.FIELD_LABELS, "tier_rule": tier_rule, "reserved_text": reserved_text}


@pages.get("/bureau/campaigns")
@page_roles_required(*BUREAU)
def campaign_list():
    """Every campaign, drafts included, newest first; filtered by the status users meet."""
    at = now()
    status = forms.status_filter(request.args.get("status"))
    campaigns, cursor = service.list_campaigns(at, status=status, include_drafts=True,
                                               cursor=request.args.get("cursor"))
    return render_template("campaigns/list.html", campaigns=availability.with_counts(campaigns, at),
                           status=status, statuses=list(CampaignStatus), next_cursor=cursor, kinds=kind_labels())


@pages.get("/bureau/campaigns/<campaign_id>")
@page_roles_required(*BUREAU)
def campaign_detail(campaign_id: str):
    at = now()
    campaign = service.get_campaign(campaign_id, include_drafts=True)
    view = availability.with_counts([campaign], at)[0]
    problems = forms.publication_problems(campaign, at) if is_editable(campaign) else []
    return render_template("campaigns/detail.html", campaign=view, problems=problems,
                           round_states=forms.round_states(campaign, view["status"], at),
                           categories=category_labels(), districts=district_names(), kinds=kind_labels(),
                           cancellable=view["status"] in ("draft", "scheduled", "open"))


@pages.route("/bureau/campaigns/new", methods=["GET", "POST"])
@page_roles_required(Role.admin)
def campaign_new():
    if request.method == "GET":
        return _editor(forms.EditorForm.blank())
    form = forms.EditorForm.from_request(request.form)
    try:
        campaign = service.create_campaign(form.campaign_in(), current_user, now())
    except ValidationError as err:
        form.add_errors(err.errors)
        return _editor(form), 422
    flash(_("Saved as a draft. Publish it when nothing below blocks it."), "success")
    return redirect(url_for(".campaign_detail", campaign_id=campaign.id))


@pages.route("/bureau/campaigns/<campaign_id>/edit", methods=["GET", "POST"])
@page_roles_required(Role.admin)
def campaign_edit(campaign_id: str):
    """Edit a draft; a published campaign is shown instead, with the reason it cannot change."""
    at = now()
    if request.method == "POST":
        return _save_edit(campaign_id, at)
    campaign = service.get_campaign(campaign_id, include_drafts=True)
    if not is_editable(campaign):
        return _not_editable(campaign, at)
    form = forms.EditorForm.from_campaign(campaign)
    form.add_notes(rules.problems(campaign, at))
    return _editor(form, campaign)


def _save_edit(campaign_id: str, at: dt.datetime):
    # The campaign is read only when the form must be shown again.
    form = forms.EditorForm.from_request(request.form)
    try:
        service.update_campaign(campaign_id, form.campaign_patch(), current_user, at)
    except ValidationError as err:
        campaign = service.get_campaign(campaign_id, include_drafts=True)
        if not is_editable(campaign):
            return _not_editable(campaign, at)
        form.add_errors(err.errors)
        return _editor(form, campaign), 422
    except Conflict as err:  # no longer a draft
        flash(str(err.detail or err.title), "error")
        return redirect(url_for(".campaign_detail", campaign_id=campaign_id))
    flash(_("Saved."), "success")
    return redirect(url_for(".campaign_detail", campaign_id=campaign_id))


def _not_editable(campaign: Campaign, at: dt.datetime):
    flash(_("Only a draft can be edited; this campaign is %(status)s.",
            status=service.status_label(effective_status(campaign, at).value)), "error")
    return redirect(url_for(".campaign_detail", campaign_id=campaign.id))


def _editor(form: forms.EditorForm, campaign: Campaign | None = None) -> str:
    form.with_spare_rows()
    return render_template("campaigns/editor.html", form=form, campaign=campaign,
                           choices=forms.editor_choices(form), totals=form.totals(),
                           spare_tier=forms.TierRow(), spare_round=forms.RoundRow())


@pages.post("/bureau/campaigns/<campaign_id>/publish")
@page_roles_required(Role.admin)
def campaign_publish(campaign_id: str):
    at = now()
    try:
        campaign = issuing.publish_campaign(campaign_id, current_user, at)
    except (ValidationError, Conflict) as err:  # the page lists the problems that remain
        flash(str(err.detail or err.title), "error")
    else:
        flash(_("Published. The campaign is %(status)s.",
                status=service.status_label(effective_status(campaign, at).value)), "success")
    return redirect(url_for(".campaign_detail", campaign_id=campaign_id))


@pages.post("/bureau/campaigns/<campaign_id>/cancel")
@page_roles_required(Role.admin)
def campaign_cancel(campaign_id: str):
    try:
        issuing.cancel_campaign(campaign_id, forms.cancel_reason(request.form), current_user, now())
    except (ValidationError, Conflict) as err:
        flash(str(err.detail or err.title), "error")
    else:
        flash(_("The campaign is cancelled."), "success")
    return redirect(url_for(".campaign_detail", campaign_id=campaign_id))
