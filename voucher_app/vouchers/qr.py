"""QR images of tokens. Rendering costs milliseconds of CPU, so it happens only when a wallet asks,
never inside a claim; the version and mask are fixed (no search for the best mask), which makes it
cheaper and keeps every voucher's code the same size on screen."""
from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import QRData

# Version 6 at level M holds 154 alphanumeric characters; a token is 140.
QR_VERSION = 6
QR_MASK = 0


def _code(text: str) -> qrcode.QRCode:
    code = qrcode.QRCode(version=QR_VERSION, error_correction=ERROR_CORRECT_M, box_size=8, border=4,
                         mask_pattern=QR_MASK)
    code.add_data(QRData(text))
    code.make(fit=len(text) > 154)
    return code


def image(text: str):
    """The code as a black-and-white image (Pillow's), for a printed sheet."""
    return _code(text).make_image().get_image()


def png(text: str) -> bytes:
    buffer = io.BytesIO()
    _code(text).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def svg(text: str) -> bytes:
    buffer = io.BytesIO()
    _code(text).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()
