"""The scheduler: sweeps over database state run on a timetable, each also a CLI command.

Every job is idempotent (a sweep finds what is due and acts on it), and a ``job_runs`` row with a
unique (job, scheduled time) key lets one trigger act once even if two schedulers run by mistake.
"""
