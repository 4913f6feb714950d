"""Reports against the plan's measures: the tally job's aggregates, and the reports read from them."""
