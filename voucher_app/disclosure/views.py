"""The disclosure API (issue #17; filled in by the disclosure work)."""
from __future__ import annotations

from flask import Blueprint

api = Blueprint("disclosure_api", __name__)
