"""Redemption (核销): a cashier scans a voucher against a bill; refunds of returned goods."""
