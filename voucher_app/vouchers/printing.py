"""Printed vouchers: a paper sheet for a resident without a smartphone, or for anyone who wants paper.

Why a lost sheet stops working
------------------------------
A sheet carries a QR token signed with the phone tokens' keys but living until the voucher expires
(``tokens.sign_printed``), and a typed code that cannot rotate (``tokens.printed_code``). Both carry
the voucher's *print generation*. Each print moves the generation on (an SQL increment, in the
transaction that holds the voucher's row locked), so the newest sheet is the only one in force, and
revoking moves it on without a new sheet. The till compares a printed token's generation with the
voucher's at every scan (``sheet_in_force``), and a printed code is checked against the current
generation only (``redemptions/typed.py``), so an earlier sheet meets ``voucher_revoked`` from the
moment the revoke commits. A scan already past that comparison when the revoke commits finishes, as
it would have a moment earlier; either way the voucher pays once only (``redemptions/service.py``).

Who may print or revoke: the voucher's owner, or the community worker who claimed it for them
(``proxy_id``); anyone else meets ``not_found``. Every print and revoke, refused ones included, is in
the audit log with the actor and the resident.

The sheet is an A4 page with the voucher as a card: the QR, the rule in large type, the campaign,
until when, at what hours and at which kinds of shop it can be used, and the code to type. Chinese
needs a CJK font: Debian's ``fonts-noto-cjk`` (``scripts/system-deps.sh``) or ``fonts-wqy-*``;
without one, printing answers ``printing_unavailable`` before anything changes.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from fpdf import FPDF
from sqlalchemy import bindparam, select, update

from campaigns.labels import category_labels, district_names
from campaigns.models import Campaign
from voucher_app.accounts.models import User
from voucher_app.core.audit import AuditRecord, audited
from voucher_app.core.clock import iso
from voucher_app.core.errors import InvalidToken, NotFound, PrintingUnavailable, VoucherRevoked
from voucher_app.core.extensions import db
from voucher_app.core.hotpath import Prepared, hot
from voucher_app.core.i18n import city_datetime, join_list
from voucher_app.vouchers import qr, tokens
from voucher_app.vouchers.models import Voucher, VoucherStatus
from voucher_app.vouchers.schemas import wallet_out
from voucher_app.vouchers.service import refuse_unusable

PRINT, REVOKE = "voucher.print", "voucher.print_revoke"

# (regular, bold, the face's number in the collection): Noto Sans CJK's collections hold JP, KR, SC, …
_FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", None, 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", None, 0),
)

_GENERATION = Prepared(select(Voucher.__table__.c.print_generation).where(Voucher.__table__.c.id == bindparam("p_id")))


def sheet_in_force(voucher_id: str, generation: int) -> None:
    """At the till: refuse a printed token whose sheet was revoked or reprinted (``voucher_revoked``)."""
    current = hot().one(_GENERATION, p_id=voucher_id)
    if current is None:
        raise InvalidToken()
    if current.print_generation != generation:
        raise VoucherRevoked(_("This printed voucher was replaced or cancelled by its owner. Ask the customer "
                               "for the new sheet or the code on their phone."))


def _fonts() -> tuple[str, str, int]:
    for regular, bold, number in _FONTS:
        if Path(regular).is_file():
            return regular, bold if bold and Path(bold).is_file() else regular, number
    current_app.logger.error("printing: no CJK font; install fonts-noto-cjk (scripts/system-deps.sh)")
    raise PrintingUnavailable()


def _locked(voucher_id: str, actor: User) -> Voucher:
    """The voucher, its row locked, if ``actor`` owns it or claimed it for its owner; else ``not_found``."""
    voucher = db.session.scalars(select(Voucher).where(Voucher.id == voucher_id).with_for_update()).first()
    if voucher is None or actor.id not in (voucher.resident_id, voucher.proxy_id):
        raise NotFound(_("There is no such voucher in your wallet."))
    return voucher


def print_sheet(voucher_id: str, actor: User, now: dt.datetime) -> bytes:
    """A printed sheet (PDF) for a claimed, unused voucher; every earlier sheet stops working."""
    fonts = _fonts()
    with audited(PRINT, "voucher", voucher_id, actor.id, now) as detail:
        voucher = _locked(voucher_id, actor)
        refuse_unusable(voucher, now)
        generation = db.session.execute(
            update(Voucher).where(Voucher.id == voucher.id).values(print_generation=Voucher.print_generation + 1)
            .returning(Voucher.print_generation).execution_options(synchronize_session=False)).scalar_one()
        detail.update(generation=generation, resident_id=voucher.resident_id)
        item = wallet_out(voucher, db.session.get(Campaign, voucher.campaign_id), VoucherStatus.claimed, now)
        expires_at = voucher.expires_at
    token = tokens.sign_printed(voucher_id, generation, now, expires_at)
    return render(item, token, tokens.printed_code(voucher_id, generation), generation, now, fonts)


def revoke_sheets(voucher_id: str, actor: User, now: dt.datetime) -> None:
    """Stop every printed sheet of the voucher (a lost sheet); printing again gives a working one."""
    with audited(REVOKE, "voucher", voucher_id, actor.id, now) as detail:
        voucher = _locked(voucher_id, actor)
        generation = db.session.execute(
            update(Voucher).where(Voucher.id == voucher.id).values(print_generation=Voucher.print_generation + 1)
            .returning(Voucher.print_generation).execution_options(synchronize_session=False)).scalar_one()
        detail.update(generation=generation, resident_id=voucher.resident_id)


def sheets(voucher_ids: list[str]) -> dict[str, dict]:
    """For the wallet: each printed voucher's last print — when, and whether its sheet is still in
    force (no revoke since) — from the audit log, which records both."""
    if not voucher_ids:
        return {}
    a = AuditRecord
    rows = db.session.execute(
        select(a.target_id, a.action, a.at).where(a.target_type == "voucher", a.target_id.in_(voucher_ids),
                                                  a.action.in_((PRINT, REVOKE)), a.outcome == "ok")
        .order_by(a.at, a.id))
    found: dict[str, dict] = {}
    for voucher_id, action, at in rows:
        if action == PRINT:
            found[voucher_id] = {"printed_at": iso(at), "in_force": True}
        elif voucher_id in found:
            found[voucher_id]["in_force"] = False
    return found


# The sheet ---------------------------------------------------------------------------------------------

_CARD_X, _CARD_Y, _CARD_W, _CARD_H = 15, 20, 180, 125
_QR_SIZE = 64


def render(item: dict, token: str, code: str, generation: int, now: dt.datetime,
           fonts: tuple[str, str, int]) -> bytes:
    """The A4 page: the voucher as a card to cut out, and how to use it below."""
    regular, bold, number = fonts
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(item["rule"])
    pdf.set_creator("voucher")
    pdf.add_font("cjk", fname=regular, collection_font_number=number)
    pdf.add_font("cjk", style="B", fname=bold, collection_font_number=number)
    pdf.set_auto_page_break(False)
    pdf.set_margins(_CARD_X, _CARD_Y, 210 - _CARD_X - _CARD_W)
    pdf.add_page()
    with pdf.local_context(dash_pattern={"dash": 2, "gap": 1.5}, draw_color=(120, 120, 120)):
        pdf.rect(_CARD_X, _CARD_Y, _CARD_W, _CARD_H, round_corners=True, corner_radius=4)
    pdf.image(qr.image(token), x=_CARD_X + 6, y=_CARD_Y + 14, w=_QR_SIZE, h=_QR_SIZE)

    left = _CARD_X + _QR_SIZE + 12
    width = _CARD_X + _CARD_W - 6 - left
    pdf.set_xy(_CARD_X + 6, _CARD_Y + 5)
    pdf.set_font("cjk", size=11)
    pdf.cell(_CARD_W - 12, 6, _("Printed voucher") + " · " + item["campaign"]["name"])
    pdf.set_xy(left, _CARD_Y + 14)
    pdf.set_font("cjk", "B", 30)
    pdf.multi_cell(width, 13, item["rule"], new_x="LEFT")
    pdf.set_y(pdf.get_y() + 3)
    pdf.set_font("cjk", size=12)
    for line in (_("Use by %(when)s", when=city_datetime(_moment(item["expires_at"]))),
                 _("When it can be used: %(hours)s", hours=_hours(item)),
                 _("Where: %(where)s", where=_where(item))):
        pdf.set_x(left)
        pdf.multi_cell(width, 6.5, line, new_x="LEFT")
        pdf.set_y(pdf.get_y() + 1.5)

    pdf.set_xy(_CARD_X + 6, _CARD_Y + 14 + _QR_SIZE + 6)
    pdf.set_font("cjk", size=11)
    pdf.cell(_CARD_W - 12, 6, _("No camera at the till? The cashier types this code:"))
    pdf.set_xy(_CARD_X + 6, pdf.get_y() + 7)
    pdf.set_font("cjk", "B", 24)
    pdf.cell(_CARD_W - 12, 12, code)
    pdf.set_xy(_CARD_X + 6, _CARD_Y + _CARD_H - 9)
    pdf.set_font("cjk", size=8)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(_CARD_W - 12, 5, _("Sheet %(number)d, printed %(when)s", number=generation, when=city_datetime(now)))

    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(_CARD_X, _CARD_Y + _CARD_H + 10)
    pdf.set_font("cjk", size=12)
    for paragraph in (
            _("Show this sheet at the till: the cashier scans the QR code, or types the code if there is no "
              "camera. The voucher can be used once."),
            _("Keep it like cash: anyone holding this sheet can use the voucher. If you lose it, revoke it in "
              "your wallet (or ask your community worker) and print a new one; the lost sheet then stops "
              "working."),
            _("Printing again also replaces this sheet: only the newest printed sheet works.")):
        pdf.multi_cell(_CARD_W, 6.5, paragraph)
        pdf.ln(3)
    return bytes(pdf.output())


def _moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _hours(item: dict) -> str:
    """The hours and weekdays in the words of the wallet (``templates/vouchers/_rule.html``)."""
    hours = item["valid_hours"]
    if not hours:
        text = _("all day")
    elif hours["to"] < hours["from"]:
        text = _("%(start)s to %(end)s the next day", start=hours["from"], end=hours["to"])
    else:
        text = _("%(start)s to %(end)s", start=hours["from"], end=hours["to"])
    days = item["valid_weekdays"]
    if days and len(days) < 7:
        names = {1: _("Mon"), 2: _("Tue"), 3: _("Wed"), 4: _("Thu"), 5: _("Fri"), 6: _("Sat"), 7: _("Sun")}
        text += " · " + join_list(names[d] for d in days)
    return text


def _where(item: dict) -> str:
    categories, districts = category_labels(), district_names()
    kinds = join_list(categories.get(c, c) for c in item["merchant_categories"]) or _("all kinds of shops")
    places = join_list(districts.get(d, d) for d in item["districts"]) or _("the whole city")
    return f"{kinds} · {places}"
