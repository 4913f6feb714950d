"""Fraud rules over redemptions (M21 刷单炒信): flags, the bureau's review, holds and clawbacks."""
