"""The unified social credit code (统一社会信用代码, GB 32100-2015) printed on every business licence.

Eighteen characters from a 31-character alphabet (digits and capitals without I, O, S, V and Z, which
are easily misread): the registration authority (1), the organisation type (1), the administrative
division of the registering office (6 digits), the organisation code (9), and a check character
computed from the first seventeen. Checking it here catches a mistyped code before the bureau spends
time reviewing a shop that does not exist, and says exactly what is wrong.

The check character is python-stdnum's (``stdnum.cn.uscc``). Its ``validate`` is not used: it demands
digits in the first two places, where the standard also allows letters of the alphabet (the registration
authority ``A``, ``N`` or ``Y``, for instance), so it would refuse genuine codes (see the tests); and its
refusals name no character, where a person needs to know which one to correct.
"""
from __future__ import annotations

import unicodedata

from flask_babel import gettext as _
from stdnum.cn import uscc

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LENGTH = 18
NEVER_USED = "IOSVZ"


def check_character(first17: str) -> str:
    """The check character GB 32100 assigns to the first seventeen characters of a code."""
    return uscc.calc_check_digit(first17)


def normalize_uscc(raw: str) -> str:
    """``raw`` as the 18 capitals of a valid code, or ``ValueError`` with a message a person can act on.

    Full-width characters (typed with a Chinese input method), lower case and spaces around the
    code are accepted and normalised.
    """
    code = unicodedata.normalize("NFKC", raw or "").strip().upper()
    if len(code) != LENGTH:
        raise ValueError(_("The code has %(length)d characters; a unified social credit code has 18.",
                           length=len(code)))
    for position, char in enumerate(code, start=1):
        if char not in ALPHABET:
            if char in NEVER_USED:
                raise ValueError(_("Character %(position)d is \"%(char)s\", a letter these codes never use "
                                   "(I, O, S, V and Z never appear). Did you mean a digit?",
                                   position=position, char=char))
            raise ValueError(_("Character %(position)d is \"%(char)s\"; only digits and capital letters "
                               "other than I, O, S, V and Z are allowed.", position=position, char=char))
    if not code[2:8].isdigit():
        raise ValueError(_("Characters 3 to 8 are the 6-digit administrative division code; \"%(part)s\" "
                           "is not.", part=code[2:8]))
    expected = check_character(code[:17])
    if code[17] != expected:
        raise ValueError(_("The check character does not match: with these first 17 characters the last "
                           "one should be \"%(expected)s\", not \"%(found)s\". Please compare the code with "
                           "the business licence.", expected=expected, found=code[17]))
    return code
