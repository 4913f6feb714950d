"""Whether the connected database keeps what it acknowledged, should the machine or the server die.

The platform's guarantees (every 201 is a voucher in the wallet, no sale paid twice) hold only as far as
the database keeps a committed transaction. Some settings trade that for speed and are right for a
throwaway test cluster (``scripts/test-postgres.sh`` runs with ``fsync=off``), fatal in production: a
PostgreSQL crash with ``synchronous_commit=off`` lost 3 of 603 claims the server had already answered.
``voucher doctor`` reads the live settings and names each one that can lose acknowledged work.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

# SQLite's ``PRAGMA synchronous`` levels (https://sqlite.org/pragma.html#pragma_synchronous).
SQLITE_SYNCHRONOUS_LEVELS = {"OFF": 0, "NORMAL": 1, "FULL": 2, "EXTRA": 3}


@dataclass(frozen=True)
class Finding:
    setting: str
    value: str
    risk: str
    fix: str

    def __str__(self) -> str:
        return f"{self.setting} = {self.value}: {self.risk} Fix: {self.fix}"


def database_findings(connection: Connection) -> list[Finding]:
    """Every setting of the connected database that can lose work it has acknowledged (empty: none)."""
    if connection.dialect.name == "sqlite":
        return sqlite_findings(_sqlite_settings(connection))
    return postgresql_findings(_postgresql_settings(connection))


def _sqlite_settings(connection: Connection) -> dict[str, str]:
    return {"journal_mode": str(connection.exec_driver_sql("PRAGMA journal_mode").scalar()).lower(),
            "synchronous": str(connection.exec_driver_sql("PRAGMA synchronous").scalar())}


def _postgresql_settings(connection: Connection) -> dict[str, str]:
    rows = connection.execute(text(
        "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')"))
    return {name: setting for name, setting in rows}


def sqlite_findings(settings: dict[str, str]) -> list[Finding]:
    """SQLite keeps a commit through a power cut only with WAL and ``synchronous`` FULL (or EXTRA).

    In WAL mode NORMAL survives the app or the process dying (the WAL is written before the commit
    returns) but not the operating system or the power: the last commits before the cut can roll back.
    """
    findings = []
    if settings.get("journal_mode") != "wal":
        findings.append(Finding(
            "journal_mode", settings.get("journal_mode", "?"),
            "without WAL, readers block the writer and the platform's locking assumptions do not hold.",
            "the app sets PRAGMA journal_mode=WAL on every connection; check that the file system supports it."))
    level = int(settings.get("synchronous", "2"))
    if level < SQLITE_SYNCHRONOUS_LEVELS["FULL"]:
        name = {v: k for k, v in SQLITE_SYNCHRONOUS_LEVELS.items()}.get(level, str(level))
        findings.append(Finding(
            "synchronous", name,
            "a power cut or an operating-system crash can lose the last commits the server already answered.",
            "set VOUCHER_SQLITE_SYNCHRONOUS=FULL (production's default)."))
    return findings


def postgresql_findings(settings: dict[str, str]) -> list[Finding]:
    """PostgreSQL keeps a commit through a crash with ``fsync`` and ``full_page_writes`` on and a
    ``synchronous_commit`` other than ``off`` (``local``, ``remote_write`` … wait at least for the local WAL)."""
    findings = []
    if settings.get("fsync") == "off":
        findings.append(Finding(
            "fsync", "off", "a crash of the server or the machine can lose commits and corrupt the database.",
            "set fsync = on in postgresql.conf and restart PostgreSQL."))
    if settings.get("full_page_writes") == "off":
        findings.append(Finding(
            "full_page_writes", "off", "a power cut in the middle of a page write can corrupt the database.",
            "set full_page_writes = on in postgresql.conf and reload PostgreSQL."))
    if settings.get("synchronous_commit") == "off":
        findings.append(Finding(
            "synchronous_commit", "off",
            "a crash of PostgreSQL loses the last commits the server already answered (claims, sales).",
            "set synchronous_commit = on in postgresql.conf (or ALTER DATABASE … SET synchronous_commit = on)."))
    return findings
