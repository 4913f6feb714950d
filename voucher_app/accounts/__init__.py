"""Accounts and sign-in: residents by phone and SMS code, staff by username and password."""
