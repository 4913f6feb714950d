"""Lottery rounds (摇号): residents enter in a window, a draw anyone can check gives out the vouchers."""
