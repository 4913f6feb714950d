"""What the public may read without signing in (M21): shops' credit pages, complaint statistics,
suspended shops, and the bureau's consumption warnings (消费预警)."""
