"""The subsidy ledger: append-only, double-entry, in fen."""
