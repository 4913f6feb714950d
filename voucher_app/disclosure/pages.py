"""The disclosure pages (issue #17; filled in by the disclosure work)."""
from __future__ import annotations

from flask import Blueprint

pages = Blueprint("disclosure", __name__, template_folder="templates")
