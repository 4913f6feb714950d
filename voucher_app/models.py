"""Every domain's models, imported in one place so the metadata (and Alembic) sees every table."""
import campaigns.models  # noqa: F401
import merchants.models  # noqa: F401
import voucher_app.accounts.models  # noqa: F401
import voucher_app.complaints.models  # noqa: F401
import voucher_app.core.audit  # noqa: F401
import voucher_app.core.idempotency  # noqa: F401
import voucher_app.core.versions  # noqa: F401
import voucher_app.disclosure.models  # noqa: F401
import voucher_app.fraud.models  # noqa: F401
import voucher_app.ledger.models  # noqa: F401
import voucher_app.lottery.models  # noqa: F401
import voucher_app.redemptions.models  # noqa: F401
import voucher_app.reports.models  # noqa: F401
import voucher_app.scheduler.models  # noqa: F401
import voucher_app.settlement.models  # noqa: F401
import voucher_app.vouchers.models  # noqa: F401
