"""The plumbing every domain shares and that knows no domain: the database and its hot path, the clock,
errors and their problem+json answers, money, roles, audit, idempotency, validation, caching, i18n."""
