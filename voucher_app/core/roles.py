"""Who a user is, and the groups of roles that the pages and the API let in."""
from __future__ import annotations

import enum


class Role(str, enum.Enum):
    resident = "resident"
    cashier = "cashier"
    merchant_owner = "merchant_owner"
    admin = "admin"
    viewer = "viewer"
    community_worker = "community_worker"  # registers and acts for residents without a smartphone

    @property
    def is_staff(self) -> bool:
        return self is not Role.resident


BUREAU = (Role.admin, Role.viewer)  # the commerce bureau: officers act, viewers read
SHOP_PEOPLE = (Role.merchant_owner, Role.cashier)  # the people of one shop
STAFF = tuple(role for role in Role if role.is_staff)  # everyone who signs in with a username
