"""The fraud API (issue #17; filled in by the fraud work)."""
from __future__ import annotations

from flask import Blueprint

api = Blueprint("fraud_api", __name__)
