"""Every domain's models, imported in one place so the metadata (and Alembic) sees all tables."""
from campaigns.models import Action, CitySetting, District, Measure, PlanTarget  # noqa: F401

from .accounts.models import OtpCode, OutboxMessage, User  # noqa: F401
