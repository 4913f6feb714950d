"""Which resident ID numbers a profile accepts: the check digit and birth date in full, any known place."""
from __future__ import annotations

import pytest
from stdnum.cn import ric

from voucher_app.accounts.profile import masked_id_number, normalised_id_number
from voucher_app.core.errors import ValidationError


def number(place: str, born: str, serial: str = "100") -> str:
    body = place + born + serial
    return body + ric.calc_check_digit(body + "0")


def test_an_elderly_residents_number_from_a_county_created_after_their_birth_is_accepted(app):
    # Lizhou's code (510802) dates from 1985; numbers were issued by residence from 1984 on.
    assert normalised_id_number(number("510802", "19500101")) == number("510802", "19500101")
    assert normalised_id_number(number("110105", "19491231").lower()) == number("110105", "19491231")


@pytest.mark.parametrize("wrong", [
    number("510802", "19500101")[:-1] + "0" if number("510802", "19500101")[-1] != "0" else
    number("510802", "19500101")[:-1] + "1",  # the check digit
    number("510802", "19501301"),  # the 13th month
    number("999999", "19500101"),  # no such place
    "51080219500101",  # too short
    "",
])
def test_wrong_numbers_are_refused_on_the_field(app, wrong):
    with pytest.raises(ValidationError) as refused:
        normalised_id_number(wrong)
    assert refused.value.errors[0]["field"] == "id_number"


def test_the_mask_keeps_two_characters_at_each_end():
    assert masked_id_number("11010519491231002X") == "11**************2X"
