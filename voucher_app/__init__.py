"""The consumer-voucher platform.

``voucher_app.app`` is the composition root (``create_app``); ``voucher_app.cli`` the ``voucher`` command;
``voucher_app.core`` the plumbing every domain shares. This package itself imports nothing, so importing
``voucher_app.core`` never drags the whole application in.
"""
