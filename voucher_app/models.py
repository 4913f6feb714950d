"""Every domain's models, imported in one place so the metadata (and Alembic) sees all tables."""
from campaigns.models import (Action, Campaign, CampaignMeasure, CitySetting, District, Measure, PlanTarget,  # noqa: F401
                              Round, RoundAllocation, Tier)
from merchants.models import Enrolment, Merchant  # noqa: F401

from .accounts.models import OtpCode, OutboxMessage, User  # noqa: F401
from .audit.models import AuditRecord  # noqa: F401
from .idempotency import IdempotencyRecord  # noqa: F401
from .ledger.models import LedgerEntry  # noqa: F401
from .vouchers.models import Voucher  # noqa: F401
from .redemptions.models import Redemption, RedemptionAttempt  # noqa: F401
from merchants.models import SettlementLine, SettlementStatement  # noqa: F401, E402

from .reports.models import TallyCampaign, TallyDay, TallyHour, TallyMeasure, TallyMerchantDay  # noqa: F401, E402
from .scheduler.models import JobRun  # noqa: F401, E402
