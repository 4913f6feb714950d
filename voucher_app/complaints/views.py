"""The complaints API (issue #17; filled in by the complaints work)."""
from __future__ import annotations

from flask import Blueprint

api = Blueprint("complaints_api", __name__)
