"""The bureau's campaign pages: one HTML form for a whole campaign, translated to and from the API's shape.

The pages and the JSON API call the same services with the same pydantic schemas, so nothing here
decides whether a campaign is acceptable. This module only translates: the strings a browser posts
become the API's types (yuan → integer fen, city wall-clock time → aware datetimes), and the API's
field paths (``tiers.0.discount_cents``) point back at the inputs that caused them. It keeps every
string the user typed, so a form with mistakes comes back exactly as it was sent.

Rows of the tier and round tables are numbered in the input names (``tiers-0-name``,
``rounds-0-release_at``, ``rounds-0-q-0`` = round 0's quantity of tier row 0). A tier row holds its
kind (an amount off, or a percent off up to a cap) and its reserved quotas, one per group
(``tiers-0-reserved-elderly-quantity``); a round row both a first-come round's release time and a
lottery round's window, of which the campaign's allocation decides which is read. Numbers may have
gaps (a row removed without JavaScript renumbering); a row left wholly empty is ignored, which is
how the spare row the page always offers stays harmless.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from campaigns import rules, service
from campaigns.labels import category_labels, kind_labels
from campaigns.models import Campaign, CampaignStatus
from campaigns.schemas import LOTTERY_FIELDS, MAX_CENTS, CampaignIn, CampaignPatch
from voucher_app.accounts.profile import GROUPS
from voucher_app.core.clock import city_zone, parse_iso, to_city
from voucher_app.core.errors import ValidationError
from voucher_app.core.money import UnreadableAmount, parse_yuan, yuan_text
from voucher_app.core.validation import validate

CHOICE_GROUPS = ("measure_codes", "merchant_categories", "districts", "resident_districts", "valid_weekdays")
TEXT_FIELDS = ("name", "description", "kind", "budget", "starts_at", "ends_at", "limit_per_resident",
               "limit_per_round", "limit_per_day", "limit_per_merchant_day", "valid_days", "valid_from", "valid_to",
               "allocation")
CHECKBOXES = ("recycle_expired", "requires_profile")
TIER_FIELDS = ("name", "threshold", "discount", "percent", "cap", "quantity")
TIER_KINDS = ("amount", "percent")
ROUND_TIMES = ("release_at", *LOTTERY_FIELDS)

# API field of a tier → the input of its row that holds it.
_TIER_INPUT = {"name": "name", "threshold_cents": "threshold", "discount_cents": "discount", "quantity": "quantity",
               "percent": "percent", "cap_cents": "cap"}
# API top-level field → the input that holds it, where the names differ.
_TOP_INPUT = {"budget_cents": "budget"}

_TIER_KEY = re.compile(r"^tiers-(\d{1,4})-(?:name|threshold|discount|percent|cap|quantity|kind|"
                       r"reserved-\w{1,20}-(?:quantity|until))$")
_ROUND_KEY = re.compile(r"^rounds-(\d{1,4})-(?:release_at|entry_opens_at|entry_closes_at|draw_at|q-\d{1,4})$")
_COUNT = re.compile(r"^\d{1,9}$")
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?$")
_SEPARATORS = re.compile(r"[\s,，]")

FIELD_LABELS = {
    "name": _l("Name"), "description": _l("Description for residents"), "kind": _l("Kind"),
    "measure_codes": _l("Measures of the plan"), "budget": _l("Budget (yuan)"), "starts_at": _l("Starts"),
    "ends_at": _l("Ends"), "merchant_categories": _l("Merchant categories"), "districts": _l("Districts"),
    "limit_per_resident": _l("Limit per resident"), "limit_per_round": _l("Limit per round"),
    "valid_days": _l("Days a voucher stays valid after claiming"), "valid_from": _l("Valid hours"),
    "valid_to": _l("Valid hours"), "valid_weekdays": _l("Weekdays"),
    "recycle_expired": _l("Recycle expired vouchers"), "tiers": _l("Voucher tiers"), "rounds": _l("Rounds"),
    "resident_districts": _l("Residents of"), "requires_profile": _l("Requires a resident profile"),
    "limit_per_day": _l("Limit per day"), "limit_per_merchant_day": _l("Limit per shop and day"),
    "allocation": _l("How vouchers are given out"),
}


class Unreadable(ValueError):
    """An input that cannot become the API's type; the message tells the user how to write it."""


UNREADABLE = (Unreadable, UnreadableAmount)  # amounts are read by ``core.money``


# Reading inputs ---------------------------------------------------------------------------------------

def parse_money(text: str) -> int | None:
    """Yuan as typed → fen (``core.money``); None when blank. Above the API's limit it is refused here,
    in yuan as the input asks for it: the API's own refusal names the limit in fen."""
    cents = parse_yuan(text)
    if cents is not None and cents > MAX_CENTS:
        raise Unreadable(_("Must be at most ¥%(max)s.", max=yuan_text(MAX_CENTS, trim="whole")))
    return cents


def parse_count(text: str) -> int | None:
    """A whole number as typed; None when blank."""
    cleaned = _SEPARATORS.sub("", text or "")
    if not cleaned:
        return None
    if not _COUNT.match(cleaned):
        raise Unreadable(_("Enter a whole number."))
    return int(cleaned)


def parse_city_time(text: str) -> dt.datetime | None:
    """A ``datetime-local`` value, read as the city's wall-clock time → an aware datetime; None when blank."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    try:
        value = dt.datetime.fromisoformat(cleaned.replace(" ", "T"))
    except ValueError:
        raise Unreadable(_("Enter a date and time, such as 2026-12-01 20:00.")) from None
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=city_zone())


def parse_clock_time(text: str) -> str | None:
    """A ``time`` input's value as the API's "HH:MM"; None when blank."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    match = _CLOCK_TIME.match(cleaned)
    if not match:
        raise Unreadable(_("Give the time as HH:MM, such as 18:00."))
    return f"{match.group(1)}:{match.group(2)}"


# Showing values ---------------------------------------------------------------------------------------

def city_time_input(value: dt.datetime | None) -> str:
    """An aware time as a ``datetime-local`` value in the city's zone; seconds only when there are some,
    so an end such as 23:59:59 survives an edit unchanged."""
    if value is None:
        return ""
    local = to_city(value)
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")


# The editor form -----------------------------------------------------------------------------------------

def _no_quotas() -> dict[str, dict[str, str]]:
    return {group: {"quantity": "", "until": ""} for group in GROUPS}


@dataclass
class TierRow:
    name: str = ""
    threshold: str = ""
    discount: str = ""
    quantity: str = ""
    kind: str = "amount"  # or "percent": ``percent`` off up to ``cap`` yuan, instead of ``discount``
    percent: str = ""
    cap: str = ""
    reserved: dict[str, dict[str, str]] = field(default_factory=_no_quotas)  # group → quantity and until

    def is_blank(self) -> bool:
        """Nothing typed (the kind is a choice, always sent)."""
        return not any(getattr(self, f).strip() for f in TIER_FIELDS) and not self.has_reserved()

    def has_reserved(self) -> bool:
        return any(text.strip() for quota in self.reserved.values() for text in quota.values())


@dataclass
class RoundRow:
    release_at: str = ""
    quantities: list[str] = field(default_factory=list)  # one per tier row, in the tier rows' order
    entry_opens_at: str = ""
    entry_closes_at: str = ""
    draw_at: str = ""

    def is_blank(self) -> bool:
        return not any(getattr(self, t).strip() for t in ROUND_TIMES) and not any(q.strip() for q in self.quantities)


@dataclass
class EditorForm:
    """The campaign editor's inputs as typed, with what is wrong with them, input by input.

    ``errors`` stop a save; ``notes`` are the saved draft's publication problems (``rules.problems``),
    shown beside the same inputs so the bureau sees what still blocks publishing.
    """

    values: dict[str, str] = field(default_factory=dict)
    chosen: dict[str, list[str]] = field(default_factory=dict)
    recycle_expired: bool = False
    requires_profile: bool = False
    tiers: list[TierRow] = field(default_factory=list)
    rounds: list[RoundRow] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    # API index → row number of the rows sent to the API (blank rows are skipped); None = the same.
    _tier_rows: list[int] | None = None
    _round_rows: list[int] | None = None
    # Per tier sent to the API, the groups of its reserved quotas in the order sent.
    _reserved_groups: list[list[str]] | None = None
    _unreadable: set[str] = field(default_factory=set)

    # Building ---------------------------------------------------------------------------------------

    @classmethod
    def blank(cls) -> EditorForm:
        """A new campaign: the API's defaults for limits and validity, one empty tier and round."""
        return cls(values={"limit_per_resident": "1", "limit_per_round": "1", "valid_days": "7", "allocation": "fcfs"})

    @classmethod
    def from_campaign(cls, campaign: Campaign) -> EditorForm:
        """A saved draft, as the editor shows it (money in yuan, times in the city's zone)."""
        return cls(
            values={
                "name": campaign.name, "description": campaign.description or "", "kind": campaign.kind.value,
                "budget": yuan_text(grouping=False, cents=campaign.budget_cents), "starts_at": city_time_input(campaign.starts_at),
                "ends_at": city_time_input(campaign.ends_at),
                "limit_per_resident": str(campaign.limit_per_resident),
                "limit_per_round": str(campaign.limit_per_round), "valid_days": str(campaign.valid_days),
                "limit_per_day": _count_text(campaign.limit_per_day),
                "limit_per_merchant_day": _count_text(campaign.limit_per_merchant_day),
                "valid_from": campaign.valid_from or "", "valid_to": campaign.valid_to or "",
                "allocation": campaign.allocation,
            },
            chosen={
                "measure_codes": list(campaign.measure_codes),
                "merchant_categories": list(campaign.merchant_categories or []),
                "districts": list(campaign.districts or []),
                "resident_districts": list(campaign.resident_districts or []),
                "valid_weekdays": [str(d) for d in campaign.valid_weekdays or []],
            },
            recycle_expired=campaign.recycle_expired,
            requires_profile=campaign.requires_profile,
            tiers=[_tier_row(t) for t in campaign.tiers],
            rounds=[RoundRow(release_at=city_time_input(r.release_at) if campaign.allocation != "lottery" else "",
                             quantities=[str(r.quantity_of(t.id)) for t in campaign.tiers],
                             **{name: city_time_input(getattr(r, name)) for name in LOTTERY_FIELDS})
                    for r in campaign.rounds],
            _reserved_groups=[[q["group"] for q in t.reserved or ()] for t in campaign.tiers],
        )

    @classmethod
    def from_request(cls, formdata: MultiDict) -> EditorForm:
        """The inputs as posted, rows in the order of their numbers."""
        tier_numbers = _row_numbers(formdata, _TIER_KEY)
        round_numbers = _row_numbers(formdata, _ROUND_KEY)
        return cls(
            values={name: formdata.get(name, "") for name in TEXT_FIELDS},
            chosen={group: formdata.getlist(group) for group in CHOICE_GROUPS},
            recycle_expired=bool(formdata.get("recycle_expired")),
            requires_profile=bool(formdata.get("requires_profile")),
            tiers=[TierRow(**{f: formdata.get(f"tiers-{i}-{f}", "") for f in TIER_FIELDS},
                           kind=formdata.get(f"tiers-{i}-kind") or "amount",
                           reserved={group: {part: formdata.get(f"tiers-{i}-reserved-{group}-{part}", "")
                                             for part in ("quantity", "until")} for group in GROUPS})
                   for i in tier_numbers],
            rounds=[RoundRow(**{t: formdata.get(f"rounds-{r}-{t}", "") for t in ROUND_TIMES},
                             quantities=[formdata.get(f"rounds-{r}-q-{i}", "") for i in tier_numbers])
                    for r in round_numbers],
        )

    def with_spare_rows(self) -> EditorForm:
        """End each table with an empty row, so a row can be added even without JavaScript."""
        if not self.tiers or not self._tier_blank(len(self.tiers) - 1):
            self.tiers.append(TierRow())
            for rnd in self.rounds:
                rnd.quantities.append("")
        if not self.rounds or not self.rounds[-1].is_blank():
            self.rounds.append(RoundRow(quantities=[""] * len(self.tiers)))
        return self

    # Reading ----------------------------------------------------------------------------------------

    def campaign_in(self) -> CampaignIn:
        """The form as the body of ``POST /campaigns``, or ``ValidationError``.

        Inputs that cannot even be read (an amount with 3 decimals, a date that is no date) get their
        message in ``errors`` here and are left out of the body, so the schema's "required" for them
        does not hide the real reason. The schema's own refusals come in the raised error, with the
        API's field paths, for ``add_errors`` to put beside their inputs.
        """
        checked = validate(CampaignIn, self._to_api())
        if self.errors:
            raise ValidationError()
        return checked

    def campaign_patch(self) -> CampaignPatch:
        """The form as the body of ``PATCH /campaigns/{id}`` that replaces every field.

        Checked as a whole campaign first: the form always sends every field, and a field left blank
        must be refused, not read as "leave it unchanged" as a PATCH would.
        """
        return validate(CampaignPatch, self.campaign_in().model_dump(by_alias=True))

    def _to_api(self) -> dict:
        body: dict = {}
        for name in ("name", "kind"):
            if self.values.get(name, "").strip():
                body[name] = self.values[name].strip()
        body["description"] = self.values.get("description", "").strip() or None
        body["measure_codes"] = self.chosen.get("measure_codes", [])
        if not body["measure_codes"]:
            self._refuse("measure_codes", _("Choose at least one measure of the plan that this campaign funds."))
        self._read(body, "budget_cents", "budget", parse_money, required=True)
        self._read(body, "starts_at", "starts_at", parse_city_time, required=True)
        self._read(body, "ends_at", "ends_at", parse_city_time, required=True)
        body["merchant_categories"] = self.chosen.get("merchant_categories", [])
        body["districts"] = self.chosen.get("districts", [])
        body["resident_districts"] = self.chosen.get("resident_districts", [])
        body["requires_profile"] = self.requires_profile
        for name in ("limit_per_resident", "limit_per_round", "valid_days"):
            self._read(body, name, name, parse_count, required=True)
        for name in ("limit_per_day", "limit_per_merchant_day"):  # blank = no such limit
            body[name] = None
            self._read(body, name, name, parse_count, required=False)
        body["valid_hours"] = self._valid_hours()
        body["valid_weekdays"] = self._weekdays()
        body["recycle_expired"] = self.recycle_expired
        body["allocation"] = self.values.get("allocation", "").strip() or "fcfs"
        body["tiers"], body["rounds"] = self._tables(lottery=body["allocation"] == "lottery")
        return body

    def _read(self, body: dict, key: str, name: str, parse, *, required: bool) -> None:
        try:
            value = parse(self.values.get(name, ""))
        except UNREADABLE as err:
            self._refuse(name, str(err))
            return
        if value is None:
            if required:
                self._refuse(name, _("This field is required."))
            return
        body[key] = value

    def _valid_hours(self) -> dict | None:
        hours = {}
        for name, key in (("valid_from", "from"), ("valid_to", "to")):
            try:
                hours[key] = parse_clock_time(self.values.get(name, ""))
            except UNREADABLE as err:
                self._refuse(name, str(err))
                return None
        if hours["from"] is None and hours["to"] is None:
            return None
        if hours["from"] is None or hours["to"] is None:
            self._refuse("valid_from" if hours["from"] is None else "valid_to",
                         _("Give both ends of the valid hours, and make them different."))
            return None
        return hours

    def _weekdays(self) -> list[int] | None:
        chosen = self.chosen.get("valid_weekdays", [])
        if not chosen:
            return None  # none ticked = every day
        if not all(d in {"1", "2", "3", "4", "5", "6", "7"} for d in chosen):
            self._refuse("valid_weekdays", _("Weekdays are numbers from 1 (Monday) to 7 (Sunday)."))
            return None
        return sorted({int(d) for d in chosen})

    def _tables(self, *, lottery: bool) -> tuple[list[dict], list[dict]]:
        kept = [i for i in range(len(self.tiers)) if not self._tier_blank(i)]
        tiers, reserved_groups = [], []
        for i in kept:
            row, tier = self.tiers[i], {"name": self.tiers[i].name.strip()}
            if not tier["name"]:
                del tier["name"]
            self._read_cell(tier, "threshold_cents", f"tiers-{i}-threshold", row.threshold, parse_money, default=0)
            if row.kind == "percent":
                self._read_cell(tier, "percent", f"tiers-{i}-percent", row.percent, parse_count)
                self._read_cell(tier, "cap_cents", f"tiers-{i}-cap", row.cap, parse_money)
            else:
                self._read_cell(tier, "discount_cents", f"tiers-{i}-discount", row.discount, parse_money)
                if tier.get("discount_cents") == 0:
                    self._refuse(f"tiers-{i}-discount", _("The discount must be more than 0."))
            self._read_cell(tier, "quantity", f"tiers-{i}-quantity", row.quantity, parse_count)
            tier["reserved"], groups = [], []
            for group in GROUPS:
                typed = row.reserved.get(group, {})
                if not any(text.strip() for text in typed.values()):
                    continue
                quota: dict = {"group": group}
                name = f"tiers-{i}-reserved-{group}"
                self._read_cell(quota, "quantity", f"{name}-quantity", typed.get("quantity", ""), parse_count)
                self._read_cell(quota, "until", f"{name}-until", typed.get("until", ""), parse_city_time)
                tier["reserved"].append(quota)
                groups.append(group)
            tiers.append(tier)
            reserved_groups.append(groups)
        self._reserved_groups = reserved_groups
        rounds, round_rows = [], []
        for r, rnd in enumerate(self.rounds):
            if rnd.is_blank():
                continue
            entry: dict = {}
            for name in LOTTERY_FIELDS if lottery else ("release_at",):
                self._read_cell(entry, name, f"rounds-{r}-{name}", getattr(rnd, name), parse_city_time)
            quantities = []
            for i in kept:
                cell: dict = {}
                # A blank quantity releases none of that tier in this round.
                self._read_cell(cell, "q", f"rounds-{r}-q-{i}", _at(rnd.quantities, i), parse_count, default=0)
                quantities.append(cell.get("q", 0))
            entry["quantities"] = quantities
            rounds.append(entry)
            round_rows.append(r)
        self._tier_rows, self._round_rows = kept, round_rows
        return tiers, rounds

    def _read_cell(self, target: dict, key: str, name: str, text: str, parse, default: int | None = None) -> None:
        try:
            value = parse(text)
        except UNREADABLE as err:
            self._refuse(name, str(err))
            return
        if value is None:
            value = default
        if value is not None:
            target[key] = value

    def _refuse(self, name: str, message: str) -> None:
        self._unreadable.add(name)
        self.errors.setdefault(name, []).append(message)

    def _tier_blank(self, i: int) -> bool:
        """A tier row is empty when neither it nor its column in the rounds holds anything."""
        return self.tiers[i].is_blank() and not any(_at(r.quantities, i).strip() for r in self.rounds)

    # Messages ---------------------------------------------------------------------------------------

    def add_errors(self, errors: list[dict[str, str]]) -> None:
        """Put the API's ``{"field", "message"}`` errors beside their inputs."""
        for error in errors:
            name = self.input_for(error["field"])
            if name in self._unreadable:
                continue  # already told why it could not be read
            messages = self.errors.setdefault(name, [])
            if error["message"] not in messages:
                messages.append(error["message"])

    def add_notes(self, problems: list[dict[str, str]]) -> None:
        for problem in problems:
            self.notes.setdefault(self.input_for(problem["field"]), []).append(problem["message"])

    def input_for(self, path: str) -> str:
        """The input an API field path points at: ``tiers.0.discount_cents`` → ``tiers-0-discount``.

        Indexes count the rows sent to the API, which skip blank rows; "form" when nothing fits.
        """
        parts = path.split(".")
        head = parts[0]
        if head in ("tiers", "rounds") and len(parts) > 1 and parts[1].isdigit():
            return self._row_input(head, int(parts[1]), parts[2:])
        if head == "valid_hours":
            return "valid_to" if parts[-1] == "to" else "valid_from"
        head = _TOP_INPUT.get(head, head)
        if head in TEXT_FIELDS or head in CHOICE_GROUPS or head in CHECKBOXES or head in ("tiers", "rounds"):
            return head
        return "form"

    def _row_input(self, table: str, index: int, rest: list[str]) -> str:
        rows = self._tier_rows if table == "tiers" else self._round_rows
        row = rows[index] if rows is not None and index < len(rows) else index
        if table == "tiers":
            if rest and rest[0] == "reserved":
                return self._quota_input(row, index, rest[1:])
            cell = _TIER_INPUT.get(rest[0]) if rest else None
            return f"tiers-{row}-{cell}" if cell else f"tiers-{row}"
        if rest and rest[0] in ROUND_TIMES:
            return f"rounds-{row}-{rest[0]}"
        if len(rest) > 1 and rest[0] == "quantities" and rest[1].isdigit():
            tier = int(rest[1])
            column = self._tier_rows[tier] if self._tier_rows is not None and tier < len(self._tier_rows) else tier
            return f"rounds-{row}-q-{column}"
        return f"rounds-{row}"

    def _quota_input(self, row: int, index: int, rest: list[str]) -> str:
        """``tiers.0.reserved.1.until`` → ``tiers-0-reserved-low_income-until``; the tier's quotas as a whole
        → ``tiers-0-reserved``."""
        groups = self._reserved_groups[index] if self._reserved_groups and index < len(self._reserved_groups) else []
        if rest and rest[0].isdigit() and int(rest[0]) < len(groups):
            part = rest[1] if len(rest) > 1 and rest[1] in ("quantity", "until") else "quantity"
            return f"tiers-{row}-reserved-{groups[int(rest[0])]}-{part}"
        return f"tiers-{row}-reserved"

    def messages(self) -> list[dict[str, str]]:
        """Every error with the label of its input, for the summary above the form."""
        ordered = sorted(self.errors.items(), key=lambda item: _page_order(item[0]))
        return [{"name": name, "label": input_label(name), "message": message}
                for name, messages in ordered for message in messages]

    # Live totals, as the page first shows them (the script keeps them current while typing) -----------

    def totals(self) -> dict:
        tiers = []
        for i, row in enumerate(self.tiers):
            quantity = _lenient(parse_count, row.quantity)
            released = sum(_lenient(parse_count, _at(r.quantities, i)) for r in self.rounds)
            most = row.cap if row.kind == "percent" else row.discount  # the most one voucher is worth
            tiers.append({"quantity": quantity, "released": released,
                          "exposure_cents": quantity * _lenient(parse_yuan, most)})
        exposure = sum(t["exposure_cents"] for t in tiers)
        budget = _lenient(parse_yuan, self.values.get("budget", ""))
        return {"exposure_cents": exposure, "budget_cents": budget, "left_cents": budget - exposure, "tiers": tiers}


_PAGE_ORDER = ("name", "kind", "description", "measure_codes", "budget", "starts_at", "ends_at", "merchant_categories",
               "districts", "resident_districts", "requires_profile", "limit_per_resident", "limit_per_round",
               "limit_per_day", "limit_per_merchant_day", "valid_days", "valid_from", "valid_to", "valid_weekdays",
               "recycle_expired", "allocation", "tiers", "rounds")
_CELL_ORDER = ("name", "kind", "threshold", "discount", "percent", "cap", "quantity", "reserved", *ROUND_TIMES, "q")


def _page_order(name: str) -> tuple[int, int, int, int]:
    """Where an input stands on the page, so the error summary reads top to bottom."""
    head, *rest = name.split("-")  # "budget", "tiers-0-discount", "rounds-1-q-2"
    place = _PAGE_ORDER.index(head) if head in _PAGE_ORDER else len(_PAGE_ORDER)
    row = int(rest[0]) if rest and rest[0].isdigit() else -1
    cell = _CELL_ORDER.index(rest[1]) if len(rest) > 1 and rest[1] in _CELL_ORDER else -1
    column = int(rest[2]) if len(rest) > 2 and rest[2].isdigit() else -1
    return place, row, cell, column


def _row_numbers(formdata: MultiDict, pattern: re.Pattern) -> list[int]:
    return sorted({int(m.group(1)) for key in formdata.keys() if (m := pattern.match(key))})


def _tier_row(tier) -> TierRow:
    """A saved tier as its row of the editor shows it."""
    def money(cents: int | None) -> str:
        return yuan_text(grouping=False, cents=cents) if cents is not None else ""

    reserved = _no_quotas()
    for quota in tier.reserved or ():
        reserved[quota["group"]] = {"quantity": str(quota["quantity"]),
                                    "until": city_time_input(parse_iso(quota["until"]))}
    percent = tier.percent is not None
    return TierRow(name=tier.name, threshold=money(tier.threshold_cents),
                   discount="" if percent else money(tier.discount_cents), quantity=str(tier.quantity),
                   kind="percent" if percent else "amount", percent=str(tier.percent) if percent else "",
                   cap=money(tier.cap_cents) if percent else "", reserved=reserved)


def _count_text(value: int | None) -> str:
    return "" if value is None else str(value)


def _at(values: list[str], i: int) -> str:
    return values[i] if i < len(values) else ""


def _lenient(parse, text: str) -> int:
    try:
        return parse(text) or 0
    except UNREADABLE:
        return 0


def input_label(name: str) -> str:
    """What the page calls an input, for messages listed away from it."""
    row = re.match(r"^(tiers|rounds)-(\d+)", name)
    if row:
        number = int(row.group(2)) + 1
        return _("Tier %(n)s", n=number) if row.group(1) == "tiers" else _("Round %(n)s", n=number)
    label = FIELD_LABELS.get(name)
    return str(label) if label else ""


# What the pages show besides the form ---------------------------------------------------------------------

def editor_choices(form: EditorForm) -> dict:
    """The options of the editor's selects and checkbox groups.

    A draft made through the API may name a code the city's data lacks; it stays listed (by its
    code) so saving the form does not silently drop it, and publishing names the problem.
    """
    measures = service.list_measures()
    known = {m["code"] for m in measures}
    groups: dict[str, dict] = {}
    for m in measures:
        group = groups.setdefault(m["action"]["code"], {"title": m["action"]["title"], "measures": []})
        group["measures"].append({"code": m["code"], "title": m["title"]})
    unknown = [code for code in form.chosen.get("measure_codes", []) if code not in known]
    if unknown:
        groups["?"] = {"title": _("Not in the city's plan"), "measures": [{"code": c, "title": ""} for c in unknown]}
    categories = category_labels()
    categories.update({c: c for c in form.chosen.get("merchant_categories", []) if c not in categories})
    city = {d["code"]: d["name"] for d in service.list_districts()}
    districts = {**city, **{d: d for d in form.chosen.get("districts", []) if d not in city}}
    residents = {**city, **{d: d for d in form.chosen.get("resident_districts", []) if d not in city}}
    return {"kinds": kind_labels(), "measure_groups": list(groups.values()), "categories": categories,
            "districts": districts, "resident_districts": residents, "groups": GROUP_LABELS,
            "tier_kinds": {"amount": _("Amount off"), "percent": _("Percent off")},
            "allocations": {"fcfs": _("First come, first served"), "lottery": _("Lottery among entries")}}


GROUP_LABELS = {"elderly": _l("Elderly residents"), "low_income": _l("Low-income residents")}


def publication_problems(campaign: Campaign, now: dt.datetime) -> list[dict[str, str]]:
    """What blocks publishing a draft, each with the label and the editor input it is about."""
    form = EditorForm.from_campaign(campaign)
    found = []
    for problem in rules.problems(campaign, now):
        name = form.input_for(problem["field"])
        found.append({"label": input_label(name), "message": problem["message"],
                      "anchor": name if name != "form" else ""})
    return found


def round_states(campaign: Campaign, status: str, now: dt.datetime) -> list[str]:
    """Per round: "released", "upcoming", "planned" (a draft's) or "unreleased" (never, the campaign
    having ended or been cancelled first)."""
    states = []
    for rnd in campaign.rounds:
        if status == CampaignStatus.draft.value:
            states.append("planned")
        elif status == CampaignStatus.cancelled.value:
            released = campaign.published_at is not None and rnd.release_at <= (campaign.cancelled_at or now)
            states.append("released" if released else "unreleased")
        elif rnd.release_at <= now and rnd.release_at < campaign.ends_at:
            states.append("released")
        elif status in (CampaignStatus.scheduled.value, CampaignStatus.open.value):
            states.append("upcoming")
        else:
            states.append("unreleased")
    return states


def status_filter(value: str | None) -> str | None:
    """The list's status filter; anything unknown shows every campaign rather than an error page."""
    return value if value in {s.value for s in CampaignStatus} else None


def cancel_reason(formdata: MultiDict) -> str:
    """The reason typed on the cancel form: required on the page, since the audit trail keeps it."""
    reason = (formdata.get("reason") or "").strip()
    if not reason:
        raise ValidationError(_("Say why the campaign is cancelled."))
    if len(reason) > 2000:
        raise ValidationError(_("Too long: at most %(n)s.", n=2000))
    return reason

