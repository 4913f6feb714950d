"""Vouchers: claiming them in a rush, the resident's wallet, and the signed QR tokens they carry."""
