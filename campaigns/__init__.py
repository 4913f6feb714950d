"""The city's plan (measures, actions, districts, targets) and the campaigns that fund its measures."""
