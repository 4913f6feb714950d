"""``python -m voucher_app`` is the ``voucher`` command."""
from .cli import main

main()
