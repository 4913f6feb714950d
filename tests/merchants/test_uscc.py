"""The unified social credit code (GB 32100-2015): its check character, and refusals that say what is wrong."""
from __future__ import annotations

import random

import pytest

from merchants.uscc import ALPHABET, check_character, normalize_uscc

# Published codes of well-known companies; each passes the check as printed on its licence.
PUBLISHED = ["914403001922038216", "9144030071526726XG", "91330100716105852F", "91110000802100433B",
             "91350100M000100Y43"]


def generated(seed: int) -> str:
    """A code made with the standard's algorithm from random parts: authority, type, division, org code."""
    rng = random.Random(seed)
    first17 = (rng.choice("159Y") + rng.choice("123") + f"{rng.randrange(110000, 660000):06d}"
               + "".join(rng.choice(ALPHABET) for _ in range(9)))
    return first17 + check_character(first17)


@pytest.fixture
def en(app):
    """Refusals are translated, so they need the app; these tests read the English ones."""
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        yield


def test_the_check_character_of_a_worked_example():
    # 91350100M000100Y4: 9×1 + 1×3 + 3×9 + 5×27 + 1×26 + M(21)×20 + 1×8 + Y(30)×30 + 4×28 = 1640;
    # 1640 mod 31 = 28; 31 - 28 = 3, and the alphabet's character 3 is "3".
    assert check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_pass(code):
    assert normalize_uscc(code) == code


@pytest.mark.parametrize("seed", range(12))
def test_generated_codes_pass(seed):
    code = generated(seed)
    assert normalize_uscc(code) == code


def test_every_check_value_is_reachable():
    # Ensures the "(31 - r) % 31" wrap: a total divisible by 31 gives "0", not an index of 31.
    seen = {check_character(f"91510802{n:09d}") for n in range(400)}
    assert seen == set(ALPHABET)


def test_lower_case_full_width_and_surrounding_spaces_are_accepted():
    assert normalize_uscc("  9144030071526726xg ") == "9144030071526726XG"
    assert normalize_uscc("９１３３０１００７１６１０５８５２Ｆ") == "91330100716105852F"


@pytest.mark.parametrize("code", PUBLISHED[:3] + [generated(1), generated(2)])
def test_a_wrong_check_character_names_the_right_one(code, en):
    wrong = next(c for c in ALPHABET if c != code[-1])
    with pytest.raises(ValueError) as refused:
        normalize_uscc(code[:-1] + wrong)
    message = str(refused.value)
    assert f'should be "{code[-1]}"' in message and f'not "{wrong}"' in message


def test_a_single_mistyped_character_is_always_caught(en):
    code = PUBLISHED[0]
    for position in range(17):
        for char in ALPHABET:
            if char != code[position]:
                with pytest.raises(ValueError):
                    normalize_uscc(code[:position] + char + code[position + 1:])


@pytest.mark.parametrize("code, length", [("", 0), ("9144030071526726X", 17), ("9144030071526726XG1", 19),
                                          ("91440300", 8)])
def test_a_wrong_length_says_how_long_it_is(code, length, en):
    with pytest.raises(ValueError, match=f"has {length} characters; a unified social credit code has 18"):
        normalize_uscc(code)


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_letters_never_used_are_named(letter, en):
    code = "91440300" + letter + "92203821" + "6"
    with pytest.raises(ValueError) as refused:
        normalize_uscc(code)
    message = str(refused.value)
    assert f'Character 9 is "{letter}"' in message and "never" in message


@pytest.mark.parametrize("position", [1, 2])
def test_the_authority_and_type_characters_must_come_from_the_alphabet(position, en):
    code = list(PUBLISHED[0])
    code[position - 1] = "-"
    with pytest.raises(ValueError, match=f'Character {position} is "-"'):
        normalize_uscc("".join(code))


def test_the_division_code_must_be_digits(en):
    first17 = "9151A802" + "MA62T0LK6"
    with pytest.raises(ValueError, match="6-digit administrative division code"):
        normalize_uscc(first17 + check_character(first17))


def test_codes_of_authorities_with_a_letter_are_accepted_though_stdnum_refuses_them():
    """GB 32100 lets the registration authority be a letter of the alphabet (Y: "other authorities").
    python-stdnum's ``validate`` refuses any letter there, which is why only its check character is
    used: if this test fails on the library's side, the library was mended and its ``validate`` may do."""
    from stdnum.cn import uscc
    from stdnum.exceptions import ValidationError

    first17 = "Y1510802" + "MA62T0LK6"
    code = first17 + check_character(first17)
    assert normalize_uscc(code) == code
    with pytest.raises(ValidationError):
        uscc.validate(code)
