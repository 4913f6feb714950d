"""The city's plan over the API."""
from __future__ import annotations

from flask import Blueprint

from voucher_app.api import listing

from . import service

api = Blueprint("campaigns_api", __name__)


@api.get("/measures")
def measures():
    return listing(service.list_measures())


@api.get("/districts")
def districts():
    return listing(service.list_districts())
