"""Consumer complaints about shops and residents' seven-day return requests (M20, M21)."""
