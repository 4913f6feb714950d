"""gunicorn settings used by ``voucher serve`` (``-c python:voucher_app.gunicorn_conf``).

The app is loaded once in the master (``preload_app``), so a configuration error stops the start
before any worker forks; ``create_app`` opens no connection, and each worker starts with a fresh pool.
"""
import os
import subprocess
import sys

from voucher_app.serving import SCHEDULER_FLAG, MaskedLogger

preload_app = True
logger_class = MaskedLogger  # phones and bearer tokens masked in the access and error logs
accesslog = "-"
errorlog = "-"
loglevel = "info"
timeout = 60
graceful_timeout = 10
keepalive = 5
control_socket_disable = True
# The app alone decides which forwarded headers to believe (ProxyFix, PROXY_TRUSTED_HOPS); gunicorn
# believes none itself, where its default would take X-Forwarded-Proto from any local client.
forwarded_allow_ips = ""


def post_fork(server, worker):
    # Imported here, not above: gunicorn reads this file before it loads the app, and importing the
    # app's module is what builds it (the WSGI module calls ``create_app``).
    from voucher_app.core.extensions import db
    from voucher_app.wsgi import app

    with app.app_context():
        db.engine.dispose(close=False)


def when_ready(server):
    """``voucher serve --with-scheduler``: the master starts the one scheduler process."""
    if os.environ.get(SCHEDULER_FLAG) == "1":
        env = {k: v for k, v in os.environ.items() if k != SCHEDULER_FLAG}
        server.voucher_scheduler = subprocess.Popen([sys.executable, "-m", "voucher_app", "scheduler"], env=env)
        server.log.info("scheduler started (pid %s)", server.voucher_scheduler.pid)


def on_exit(server):
    scheduler = getattr(server, "voucher_scheduler", None)
    if scheduler is not None and scheduler.poll() is None:
        scheduler.terminate()
        try:
            scheduler.wait(timeout=15)
        except subprocess.TimeoutExpired:
            scheduler.kill()
