"""The Chinese catalog covers every message in the source tree, and keeps every placeholder.

The messages are extracted from the sources when the test runs (with the same ``babel.cfg`` and
keywords as ``scripts/update_translations.sh``), so a new ``_("...")`` without a Chinese translation
fails here. Fix a failure by running ``scripts/update_translations.sh`` and translating the new
entries in ``voucher_app/translations/zh/LC_MESSAGES/messages.po``.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
ZH_PO_NAME = "voucher_app/translations/zh/LC_MESSAGES/messages.po"
ZH_PO = ROOT / ZH_PO_NAME

# As ``pybabel extract -k _l -k lazy_gettext``: both take their message like gettext.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

# A printf-style named placeholder: %(name)s, %(n)d, %(amount).2f, %(x)-5s ...
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0\- +]*(?:\d+)?(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _directory_filter(dirpath: str) -> bool:
    """Skip hidden and private folders (``.venv``, ``__pycache__``) like pybabel does."""
    name = Path(dirpath).name
    return not name.startswith((".", "_"))


@functools.cache
def source_messages() -> dict[tuple[str, str | None], list[str]]:
    """Every message id in the sources -> where it is used ("file:line")."""
    with BABEL_CFG.open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, filename=str(BABEL_CFG))
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS, directory_filter=_directory_filter):
        msgid = message[0] if isinstance(message, (tuple, list)) else message
        if msgid:
            found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


@functools.cache
def zh_catalog() -> Catalog:
    with ZH_PO.open("rb") as po:
        return read_po(po, locale="zh")


def _translations(message) -> list[str]:
    strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return [s or "" for s in strings]


def _describe(msgid: str, context: str | None, places: list[str]) -> str:
    where = ", ".join(places[:3]) + (" ..." if len(places) > 3 else "")
    ctx = f" [context {context!r}]" if context else ""
    return f"  {msgid!r}{ctx}  ({where})"


def test_the_extraction_finds_messages():
    # Guards the test itself: a broken babel.cfg or path would otherwise make the next test pass vacuously.
    messages = source_messages()
    assert ("Sign in", None) in messages, "no messages extracted: check babel.cfg and the paths in this test"
    assert any(".html:" in place for places in messages.values() for place in places), \
        "no messages extracted from the Jinja templates"


def test_every_source_message_has_a_chinese_translation():
    catalog = zh_catalog()
    missing, empty, fuzzy = [], [], []
    for (msgid, context), places in sorted(source_messages().items(), key=lambda item: item[0][0]):
        entry = catalog.get(msgid, context=context)
        if entry is None:
            missing.append(_describe(msgid, context, places))
        elif any(not s.strip() for s in _translations(entry)):
            empty.append(_describe(msgid, context, places))
        elif entry.fuzzy:
            fuzzy.append(_describe(msgid, context, places))
    problems = []
    for title, items in (("missing from the zh catalog", missing), ("with an empty translation", empty),
                         ("marked fuzzy", fuzzy)):
        if items:
            problems.append(f"{len(items)} message(s) {title}:\n" + "\n".join(items))
    assert not problems, (
        "\n\n".join(problems)
        + f"\n\nRun scripts/update_translations.sh, then translate these in {ZH_PO_NAME}.")


def test_the_catalog_header_is_not_fuzzy():
    assert not zh_catalog().fuzzy, f"remove the '#, fuzzy' flag from the header of {ZH_PO_NAME}"


def test_translations_keep_every_placeholder():
    problems = []
    for entry in zh_catalog():
        if not entry.id or not entry.string:
            continue
        msgids = entry.id if isinstance(entry.id, (tuple, list)) else (entry.id,)
        expected = sorted({m.group(0) for msgid in msgids for m in PLACEHOLDER.finditer(msgid)})
        names = {m.group(1) for msgid in msgids for m in PLACEHOLDER.finditer(msgid)}
        for translation in _translations(entry):
            if not translation:
                continue
            found = {m.group(0) for m in PLACEHOLDER.finditer(translation)}
            lost = [p for p in expected if p not in found]
            extra = sorted(found - set(expected))
            if lost:
                problems.append(f"  {entry.id!r}: translation {translation!r} lacks {', '.join(lost)}")
            if extra:
                problems.append(f"  {entry.id!r}: translation {translation!r} has unknown {', '.join(extra)}")
            if names and not lost and not extra:
                # The translation must format like the msgid does (a stray "%" would raise at run time).
                try:
                    translation % {name: 1 for name in names}
                except (TypeError, ValueError, KeyError) as exc:
                    problems.append(f"  {entry.id!r}: translation {translation!r} does not format: {exc}")
    assert not problems, "placeholders differ between msgid and translation:\n" + "\n".join(problems)
