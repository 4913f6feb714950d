"""``python -m voucher_app`` is the ``voucher`` command."""
from voucher_app.cli import main

main()
