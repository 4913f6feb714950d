"""Shared plumbing of the benchmarks: a fresh database, the real server, and wrk as the load.

The load generator shares the machine's cores with the server, so absolute figures mean little;
every benchmark compares its endpoint with the app's bare JSON endpoint (``/api/v1/health``)
measured in the same run, with the same server, workers and connections.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark-secret-key-benchmark-secret-key"

WRK_SCRIPT = r"""
-- Each connection walks its own share of the request lines in REQUESTS_FILE:
-- "METHOD PATH TOKEN BODY" (BODY may be empty). Status codes are counted per thread.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  lines = {}
  for line in io.lines(os.getenv("REQUESTS_FILE")) do table.insert(lines, line) end
  nthreads = tonumber(os.getenv("WRK_THREADS"))
  i = id
  statuses = {}
  keyseq = 0
  extra = {}  -- EXTRA_HEADERS: "Name: value" lines sent with every request
  for name, value in (os.getenv("EXTRA_HEADERS") or ""):gmatch("([^:\n]+): ([^\n]*)") do extra[name] = value end
end

function request()
  local line = lines[(i % #lines) + 1]
  i = i + nthreads
  local method, path, token, body = line:match("^(%S+) (%S+) (%S+) ?(.*)$")
  keyseq = keyseq + 1
  local headers = {["Content-Type"] = "application/json",
                   ["Idempotency-Key"] = os.getenv("RUN_ID") .. "-" .. id .. "-" .. keyseq}
  if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
  for name, value in pairs(extra) do headers[name] = value end
  if body == "" then body = nil end
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  local key = tostring(status)
  if status >= 400 then key = key .. ":" .. (body:match('"code": ?"([%w_]+)"') or "?") end
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  io.write("RESULT " .. string.format('{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, "errors": %d, "statuses": {',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  local first = true
  for k, v in pairs(total) do
    if not first then io.write(", ") end
    io.write(string.format('"%s": %d', k, v))
    first = false
  end
  io.write("}}\n")
end
"""


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    statuses: dict

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def count(self, prefix: str) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith(prefix))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("the benchmarks drive the server with wrk: apt-get install wrk (or run `make bench`)")
    return wrk


def fresh_database(url: str | None, workdir: Path) -> str:
    """A database URL with an empty schema: a new SQLite file, or the given PostgreSQL emptied."""
    if not url:
        return f"sqlite:///{workdir / 'bench.db'}"
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def app_for(database_url: str, keys_dir: Path):
    os.environ.update({"VOUCHER_SECRET_KEY": SECRET, "VOUCHER_SIGNING_KEYS_DIR": str(keys_dir)})
    from voucher_app.app import create_app

    return create_app("development", {"SQLALCHEMY_DATABASE_URI": database_url})


def settle(database_url: str) -> None:
    """After preparing: let the database catch up with the bulk load before anything is measured —
    PostgreSQL vacuumed, analysed and checkpointed (else autovacuum and the checkpointer start in
    the first measurement), SQLite's write-ahead log folded into the file."""
    from sqlalchemy import create_engine, text

    if database_url.startswith("sqlite"):
        engine = create_engine(database_url)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1),
                               isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
            conn.execute(text("CHECKPOINT"))
    engine.dispose()


class Server:
    """``voucher serve`` with rate limits off, the same for every measurement of a run. ``app``: another
    WSGI app ("module:name") served by the same gunicorn command and settings instead, answering ``probe``."""

    def __init__(self, database_url: str, keys_dir: Path, workers: int, threads: int, app: str | None = None,
                 probe: str = "/api/v1/health"):
        from voucher_app.serving import gunicorn_argv

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-serve-", suffix=".log")
        env = {**os.environ, "VOUCHER_ENV": "development", "DATABASE_URL": database_url,
               "VOUCHER_SECRET_KEY": SECRET, "VOUCHER_SIGNING_KEYS_DIR": str(keys_dir),
               "VOUCHER_RATELIMIT_ENABLED": "false"}
        command = ([sys.executable, "-m", "voucher_app", "serve", "--port", str(self.port), "--workers", str(workers),
                    "--threads", str(threads)] if app is None else
                   gunicorn_argv(host="127.0.0.1", port=self.port, workers=workers, threads=threads)[:-1] + [app])
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + probe, timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start:\n" + Path(self.log.name).read_text())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


def load(server: Server, lines: list[str], *, connections: int, seconds: float, threads: int = 2,
         headers: dict[str, str] | None = None) -> LoadResult:
    """Run wrk against ``server`` cycling through request ``lines`` ("METHOD PATH TOKEN BODY"), each
    request with ``headers`` too."""
    wrk = need_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        script, requests = Path(tmp) / "load.lua", Path(tmp) / "requests.txt"
        script.write_text(WRK_SCRIPT)
        requests.write_text("\n".join(lines) + "\n")
        # Each wrk thread starts at its own offset and strides by the thread count.
        env = {**os.environ, "REQUESTS_FILE": str(requests), "WRK_THREADS": str(threads),
               "RUN_ID": uuid.uuid4().hex, "EXTRA_HEADERS": "".join(f"{k}: {v}\n" for k, v in (headers or {}).items())}
        out = subprocess.run([wrk, "-t", str(threads), "-c", str(connections), "-d", f"{int(seconds)}s",
                              "--latency", "-s", str(script), server.url], env=env, capture_output=True,
                             text=True, timeout=seconds + 60)
    match = re.search(r"^RESULT (.*)$", out.stdout, re.M)
    if not match:
        raise RuntimeError("wrk said:\n" + out.stdout + out.stderr)
    return LoadResult(**json.loads(match.group(1)))


@dataclass
class Round:
    """One workload measured right after the bare endpoint, on the same server."""

    bare: LoadResult
    work: LoadResult
    answered: int  # the workload's requests that got the answer being measured

    @property
    def rate(self) -> float:
        return self.answered / self.work.seconds

    @property
    def ratio(self) -> float:
        return self.rate / self.bare.per_second


def rounds(server: Server, lines: list[str], answer: str, *, count: int, connections: int,
           seconds: float, disjoint: bool = False) -> list[Round]:
    """``count`` rounds of (bare endpoint, workload), each ratio taken against its own ceiling.

    The machine is shared and its speed drifts by ±10 % from one minute to the next; a workload
    compared with a ceiling measured seconds before, and the median over rounds, keep that drift
    out of the ratio. ``disjoint``: each round gets its own share of ``lines`` (a QR scanned once)."""
    measured = []
    for i in range(count):
        bare = load(server, ["GET /api/v1/health -"], connections=connections, seconds=seconds)
        work = load(server, lines[i::count] if disjoint else lines, connections=connections, seconds=seconds)
        measured.append(Round(bare, work, work.count(answer)))
    return measured


def median_round(measured: list[Round]) -> Round:
    return sorted(measured, key=lambda r: r.ratio)[len(measured) // 2]


def report(label: str, measured: list[Round], target: float | None) -> Round:
    """Print each round and the median one (by ratio); returns the median round."""
    for i, r in enumerate(measured, 1):
        print(f"    round {i}: bare {r.bare.per_second:6.0f} req/s   {label} {r.rate:6.0f} /s   "
              f"p50 {r.work.p50_ms:5.1f} ms   p99 {r.work.p99_ms:5.1f} ms   ratio {r.ratio:.2f}×")
    middle = median_round(measured)
    p99s = sorted(r.work.p99_ms for r in measured)
    print(f"  {label:18s} median {middle.rate:6.0f} /s (bare {middle.bare.per_second:.0f} req/s)   "
          f"ratio {middle.ratio:.2f}× ({f'target ≥ {target}' if target else 'no target'})   "
          f"p99 median {p99s[len(p99s) // 2]:.1f} ms")
    return middle
