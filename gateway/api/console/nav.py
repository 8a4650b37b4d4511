"""The console's pages: each a module in `gateway.api.console.pages`, found at start.

A page module defines `router: APIRouter` (paths under /console/...) and `NAV: NavItem`. Every
route of the module is gated by `NAV.roles` (deny by default): a person whose role is not listed
is refused whatever the route itself declares, and the nav shows the page only to those roles.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType

from fastapi import APIRouter

from gateway.people.person import ROLES, Role


@dataclass(frozen=True)
class NavItem:
    """A page in the nav: its title (in Chinese), path, the roles allowed, and its place."""

    title: str
    path: str
    roles: tuple[Role, ...]
    order: int = 100
    show: bool = True  # False: allowed, but not listed in the nav (a page reached by links)

    def __post_init__(self) -> None:
        if not self.path.startswith("/console/"):
            raise ValueError(f"nav path {self.path!r} is not under /console/")
        if not self.roles or set(self.roles) - set(ROLES):
            raise ValueError(f"nav roles {self.roles!r}: one or more of {', '.join(ROLES)}")

    def allows(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Page:
    name: str
    router: APIRouter
    nav: NavItem


def discover(package: str = "gateway.api.console.pages") -> tuple[Page, ...]:
    """Every page module of `package`, by `NAV.order` then name."""
    found: list[Page] = []
    root = importlib.import_module(package)
    for info in pkgutil.iter_modules(root.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        found.append(_page(info.name, module))
    return tuple(sorted(found, key=lambda p: (p.nav.order, p.name)))


def _page(name: str, module: ModuleType) -> Page:
    router, nav = getattr(module, "router", None), getattr(module, "NAV", None)
    if not isinstance(router, APIRouter) or not isinstance(nav, NavItem):
        raise TypeError(f"console page {name}: needs `router: APIRouter` and `NAV: NavItem`")
    for route in router.routes:
        path = getattr(route, "path", "")
        if not path.startswith("/console/"):
            raise ValueError(f"console page {name}: route {path!r} is not under /console/")
    return Page(name, router, nav)
