"""Print the packages' dependency graph, as the README's architecture section shows it.

    .venv/bin/python scripts/dependency_graph.py

Reads the real imports with grimp (the graph ``lint-imports`` checks), folds modules into their
package — the core, each domain, the composition root — and prints, for each package, what its
services (every module but ``views``/``pages``) import, then what its HTTP modules add. Exits 1 if the
services' graph has a cycle; ``lint-imports`` is the check CI runs, this is the picture.
"""
from __future__ import annotations

import sys
from collections import defaultdict
from graphlib import CycleError, TopologicalSorter

import grimp

DOMAINS = ["voucher_app.core", "voucher_app.accounts", "voucher_app.ledger", "voucher_app.scheduler", "campaigns",
           "merchants", "voucher_app.vouchers", "voucher_app.redemptions", "voucher_app.lottery",
           "voucher_app.fraud", "voucher_app.complaints", "voucher_app.settlement", "voucher_app.reports",
           "voucher_app.community", "voucher_app.disclosure"]
ROOT = "voucher_app (root)"


def package_of(module: str) -> str:
    for domain in DOMAINS:
        if module == domain or module.startswith(domain + "."):
            return domain
    return ROOT


def is_http(module: str) -> bool:
    return module.rsplit(".", 1)[-1] in ("views", "pages")


def short(package: str) -> str:
    return package.removeprefix("voucher_app.") if package != ROOT else "root"


def main() -> int:
    graph = grimp.build_graph("voucher_app", "campaigns", "merchants")
    services: dict[str, set[str]] = defaultdict(set)
    http: dict[str, set[str]] = defaultdict(set)
    for importer in graph.modules:
        source = package_of(importer)
        for imported in graph.find_modules_directly_imported_by(importer):
            target = package_of(imported)
            if target != source:
                (http if is_http(importer) else services)[source].add(target)
    order = [ROOT, *reversed(DOMAINS)]
    for package in order:
        uses = sorted(map(short, services[package]))
        extra = sorted(map(short, http[package] - services[package]))
        line = f"{short(package):<12} → {', '.join(uses) or '—'}"
        if extra:
            line += f"   (views/pages also: {', '.join(extra)})"
        print(line)
    try:
        ranked = list(TopologicalSorter({p: services[p] for p in order}).static_order())
    except CycleError as err:
        print(f"cycle: {' → '.join(map(short, err.args[1]))}", file=sys.stderr)
        return 1
    print("\nno cycle; bottom to top: " + " ← ".join(short(p) for p in ranked))
    return 0


if __name__ == "__main__":
    sys.exit(main())
