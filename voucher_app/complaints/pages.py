"""The complaints pages (issue #17; filled in by the complaints work)."""
from __future__ import annotations

from flask import Blueprint

pages = Blueprint("complaints", __name__, template_folder="templates")
