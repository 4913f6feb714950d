"""The ceiling the public reads are measured against: a bare Flask app with one route and a small JSON
answer, served by the same gunicorn command and settings as the platform (``harness.Server``)."""
from __future__ import annotations

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/ping")
def ping():
    return jsonify({"status": "ok"})
