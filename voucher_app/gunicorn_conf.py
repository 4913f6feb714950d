"""gunicorn settings used by ``voucher serve`` (``-c python:voucher_app.gunicorn_conf``).

The app is loaded once in the master (``preload_app``), so a configuration error stops the start
before any worker forks; ``create_app`` opens no connection, and each worker starts with a fresh pool.
"""
from voucher_app.serving import MaskedLogger

preload_app = True
logger_class = MaskedLogger
accesslog = "-"
errorlog = "-"
loglevel = "info"
timeout = 60
graceful_timeout = 10
keepalive = 5
control_socket_disable = True


def post_fork(server, worker):
    from voucher_app.extensions import db
    from voucher_app.wsgi import app

    with app.app_context():
        db.engine.dispose(close=False)
