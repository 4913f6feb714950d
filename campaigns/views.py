"""The city's plan and its campaigns: the JSON API, and the bureau's pages under /bureau/campaigns.

Views stay thin: parse, call a service, answer. The pages call the same services with the same
schemas as the API; ``forms.py`` turns the editor's inputs into the API's body and back.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voucher_app.accounts.models import Role
from voucher_app.api import api_user, listing, roles_required
from voucher_app.clock import now
from voucher_app.errors import Conflict, ValidationError
from voucher_app.validation import json_body, validate
from voucher_app.web import page_roles_required

from . import forms, public, rules, service
from .labels import category_labels, district_names, kind_labels
from .lifecycle import effective_status, is_editable
from .models import Campaign, CampaignStatus
from .schemas import CampaignIn, CampaignPatch, ReasonIn

api = Blueprint("campaigns_api", __name__)

BUREAU = (Role.admin, Role.viewer)


@api.get("/measures")
def measures():
    return listing(service.list_measures())


@api.get("/districts")
def districts():
    return listing(service.list_districts())


def _sees_drafts() -> bool:
    user = api_user()
    return user is not None and user.role in BUREAU


@api.get("/campaigns")
def list_campaigns():
    at = now()
    status, cursor = request.args.get("status") or None, request.args.get("cursor")
    if not _sees_drafts():
        return listing(*public.campaign_list_for_residents(at, status=status, cursor=cursor, limit=service.PAGE_SIZE))
    campaigns, cursor = service.list_campaigns(at, status=status, include_drafts=True, cursor=cursor)
    return listing(service.campaign_views(campaigns, at), cursor)


@api.get("/campaigns/<campaign_id>")
def get_campaign(campaign_id: str):
    if not _sees_drafts():
        return jsonify(public.campaign_for_residents(campaign_id, now()))
    return jsonify(service.campaign_view(service.get_campaign(campaign_id, include_drafts=True), now()))


@api.post("/campaigns")
@roles_required(Role.admin)
def create_campaign():
    at = now()
    campaign = service.create_campaign(json_body(CampaignIn), api_user(), at)
    return jsonify(service.campaign_view(service.get_campaign(campaign.id, include_drafts=True), at)), 201


@api.patch("/campaigns/<campaign_id>")
@roles_required(Role.admin)
def update_campaign(campaign_id: str):
    at = now()
    service.update_campaign(campaign_id, json_body(CampaignPatch), api_user(), at)
    return jsonify(service.campaign_view(service.get_campaign(campaign_id, include_drafts=True), at))


@api.post("/campaigns/<campaign_id>/publish")
@roles_required(Role.admin)
def publish_campaign(campaign_id: str):
    at = now()
    service.publish_campaign(campaign_id, api_user(), at)
    return jsonify(service.campaign_view(service.get_campaign(campaign_id, include_drafts=True), at))


@api.post("/campaigns/<campaign_id>/cancel")
@roles_required(Role.admin)
def cancel_campaign(campaign_id: str):
    at = now()
    body = validate(ReasonIn, request.get_json(silent=True) or {})
    service.cancel_campaign(campaign_id, body.reason, api_user(), at)
    return jsonify(service.campaign_view(service.get_campaign(campaign_id, include_drafts=True), at))


# Pages of the bureau --------------------------------------------------------------------------------

pages = Blueprint("campaigns", __name__, template_folder="templates")


@pages.context_processor
def _page_helpers() -> dict:
    return {"money": forms.yuan_text, "kinds": kind_labels(), "labels": forms.FIELD_LABELS}


@pages.get("/bureau/campaigns")
@page_roles_required(*BUREAU)
def campaign_list():
    """Every campaign, drafts included, newest first; filtered by the status users meet."""
    at = now()
    status = forms.status_filter(request.args.get("status"))
    campaigns, cursor = service.list_campaigns(at, status=status, include_drafts=True,
                                               cursor=request.args.get("cursor"))
    return render_template("campaigns/list.html", campaigns=service.campaign_views(campaigns, at),
                           status=status, statuses=list(CampaignStatus), next_cursor=cursor)


@pages.get("/bureau/campaigns/<campaign_id>")
@page_roles_required(*BUREAU)
def campaign_detail(campaign_id: str):
    at = now()
    campaign = service.get_campaign(campaign_id, include_drafts=True)
    view = service.campaign_view(campaign, at)
    problems = forms.publication_problems(campaign, at) if is_editable(campaign) else []
    return render_template("campaigns/detail.html", campaign=view, problems=problems,
                           round_states=forms.round_states(campaign, view["status"], at),
                           categories=category_labels(), districts=district_names(),
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
                           choices=forms.editor_choices(form), totals=form.totals())


@pages.post("/bureau/campaigns/<campaign_id>/publish")
@page_roles_required(Role.admin)
def campaign_publish(campaign_id: str):
    at = now()
    try:
        campaign = service.publish_campaign(campaign_id, current_user, at)
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
        service.cancel_campaign(campaign_id, forms.cancel_reason(request.form), current_user, now())
    except (ValidationError, Conflict) as err:
        flash(str(err.detail or err.title), "error")
    else:
        flash(_("The campaign is cancelled."), "success")
    return redirect(url_for(".campaign_detail", campaign_id=campaign_id))
