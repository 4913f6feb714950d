"""The fraud pages (issue #17; filled in by the fraud work)."""
from __future__ import annotations

from flask import Blueprint

pages = Blueprint("fraud", __name__, template_folder="templates")
