"""The WSGI entry point: ``gunicorn voucher_app.wsgi:app`` (what ``voucher serve`` runs)."""
from voucher_app.app import create_app

app = create_app()
