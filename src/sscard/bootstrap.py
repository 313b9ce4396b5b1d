"""Wiring of the platform: which components exist, their models, their event subscribers.

This module is the conductor's only place that knows every component; the HTTP app, the
CLI and the migrations call it. Components never import it.

Each component says how it is wired in its own ``wiring`` module (``wire()``: event
subscribers, outbox destinations, worker chores, encrypted tables); its tables live in
modules named ``models`` anywhere in its package (``issuance/batches/models.py``).
"""

from __future__ import annotations

import importlib
import pkgutil

COMPONENTS: tuple[str, ...] = (
    "crypto",
    "iam",
    "audit",
    "exchange",
    "registry",
    "issuance",
    "scenarios",
    "ecard",
    "payments",
)
"""Packages under ``sscard`` with models, in dependency order."""

SUPPORT_MODELS: tuple[str, ...] = ("sscard.kit.outbox", "sscard.kit.guard")

_wired = False


def _component_modules(component: str, leaf: str) -> list[str]:
    """Every module named ``leaf`` in the component's package and its sub-packages."""
    package = importlib.import_module(f"sscard.{component}")
    found = [
        info.name
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
        if info.name.rsplit(".", 1)[-1] == leaf
    ]
    return sorted(found)


def import_models() -> None:
    """Import every models module so that ``Base.metadata`` knows every table."""
    for module in SUPPORT_MODELS:
        importlib.import_module(module)
    for component in COMPONENTS:
        for module in _component_modules(component, "models"):
            importlib.import_module(module)


def wire() -> None:
    """Import models and let each component wire itself (``<component>.wiring.wire()``)."""
    global _wired
    if _wired:
        return
    import_models()
    for component in COMPONENTS:
        try:
            wiring = importlib.import_module(f"sscard.{component}.wiring")
        except ModuleNotFoundError as exc:
            if exc.name != f"sscard.{component}.wiring":
                raise
            continue
        wiring.wire()
    _wired = True


def reset_caches() -> None:
    """Forget every per-process cache (keys, copy states, terminals): when the process is
    pointed at another database, as the test suite does between SQLite and PostgreSQL."""
    from sscard.crypto import service as crypto_service
    from sscard.ecard import service as ecard_service
    from sscard.scenarios import service as scenarios_service

    crypto_service.forget_cached_keys()
    ecard_service.forget_states()
    scenarios_service.forget_cache()


def production_problems() -> list[str]:
    """Reasons the platform must not start in production mode (empty when it may)."""
    from sscard import db
    from sscard.crypto import service as crypto_service
    from sscard.iam import service as iam_service
    from sscard.settings import get_settings

    settings = get_settings()
    problems: list[str] = []
    if settings.is_sqlite:
        problems.append("生产模式需要 PostgreSQL（SSCARD_DATABASE_URL），不能用 SQLite")
        return problems
    with db.transaction() as session:
        problems += [f"演示账户 '{u}' 仍在启用" for u in iam_service.demo_accounts(session)]
        problems += crypto_service.demo_material_present(session)
    return problems
