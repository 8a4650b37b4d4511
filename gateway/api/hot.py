"""A pure-ASGI path for the hot lookup routes: the same route, without the framework's
per-request machinery.

A signed lookup spends much of its CPU in Starlette's routing and FastAPI's dependency solving
(README, Figures). For the routes in `HOT` this middleware, inside `AuditedSignedResponses`,
matches the path with the route's own pattern and runs the route's own dependencies and
endpoint, in FastAPI's order, from a plan made once from the route's `Dependant`: the same
input checks, the same `signed_caller` (signature, key, nonce), the same role and policy checks,
the same answer, and errors turned into problems by the app's own exception handlers. The route
stays registered with FastAPI, so the OpenAPI document describes it as before.

A plan is made only for what this solver does exactly as FastAPI would: async dependencies
taking the `Request`, string path parameters and optional string query parameters. A route
that declares anything else (a header, a body, a sync dependency, a required query parameter)
is left to FastAPI whole, with a warning: adding a dependency to a hot route never skips it.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.api.contract import api_routes
from schemas.errors import GovgateError

logger = logging.getLogger(__name__)

HOT = (("GET", "/v1/certificates/{cert_id}"),)  # what the window systems call most
_OPTIONAL_TEXT = (str | None, None | str)


class NotPlannable(GovgateError):
    """The route declares something this solver does not do exactly as FastAPI does (never an
    answer: the route is then left to FastAPI)."""

    code = "NOT_PLANNABLE"


@dataclass(frozen=True)
class Step:
    """One dependant: its own dependencies first, then its parameters, then the call."""

    call: Callable[..., Awaitable[Any]]
    name: str | None  # the parameter of the parent it fills
    dependencies: tuple[Step, ...]
    request: str | None  # the parameter that takes the Request
    path: tuple[str, ...]
    query: tuple[tuple[str, str], ...]  # (parameter, query name)


def plan(dependant: Dependant) -> Step:
    """The dependant as a `Step`, or `NotPlannable`."""
    call = dependant.call
    if call is None or not inspect.iscoroutinefunction(call):
        raise NotPlannable(f"{call!r} is not an async function")
    if (
        dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    ):
        raise NotPlannable(f"{call.__name__} takes what the hot path does not solve")
    for field in dependant.path_params:
        if field.field_info.annotation is not str:
            raise NotPlannable(f"path parameter {field.name} is not a str")
    for field in dependant.query_params:
        info = field.field_info
        if info.annotation not in _OPTIONAL_TEXT or info.default is not None:
            raise NotPlannable(f"query parameter {field.name} is not an optional str")
    return Step(
        call=call,
        name=dependant.name,
        dependencies=tuple(plan(d) for d in dependant.dependencies),
        request=dependant.request_param_name,
        path=tuple(f.name for f in dependant.path_params),
        query=tuple((f.name, f.alias) for f in dependant.query_params),
    )


async def _solve(step: Step, request: Request, params: dict[str, str], done: dict[Any, Any]) -> Any:
    """Run `step` as FastAPI would, each dependency once per request (its cache)."""
    if step.call in done:
        return done[step.call]
    kwargs: dict[str, Any] = {}
    for sub in step.dependencies:
        kwargs[sub.name or ""] = await _solve(sub, request, params, done)
    if step.request is not None:
        kwargs[step.request] = request
    for name in step.path:
        kwargs[name] = params[name]
    if step.query:
        query = request.query_params
        for name, alias in step.query:
            kwargs[name] = query.get(alias)
    done[step.call] = result = await step.call(**kwargs)
    return result


@dataclass(frozen=True)
class HotRoute:
    route: APIRoute
    step: Step
    method: str
    dump: Callable[[Any], bytes]
    status: int


def hot_routes(app: FastAPI) -> list[HotRoute]:
    """The plans of the `HOT` routes that can have one (the others logged and left alone)."""
    found = []
    for served in api_routes(app):
        for method in served.methods:
            if (method, served.path) not in HOT:
                continue
            route = served.route
            try:
                step = plan(route.dependant)
                if not isinstance(route.response_model, type):
                    raise NotPlannable("no response model")
            except NotPlannable as exc:
                logger.warning("%s %s left to FastAPI: %s", method, served.path, exc)
                continue
            adapter: TypeAdapter[Any] = TypeAdapter(route.response_model)
            status = route.status_code or 200
            found.append(HotRoute(route, step, method, adapter.dump_json, status))
    return found


class HotRoutes:
    """Pure ASGI middleware: answers the planned hot routes itself, passes the rest on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: list[HotRoute] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self._routes is None:
                self._routes = hot_routes(scope["app"])
            for hot in self._routes:
                if scope["method"] != hot.method:
                    continue
                match = hot.route.path_regex.match(scope["path"])
                if match is not None:
                    await self._answer(hot, match.groupdict(), scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _answer(
        self, hot: HotRoute, params: dict[str, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope["route"] = hot.route  # the template the audit row and the metrics name
        scope["path_params"] = params
        request = Request(scope, receive)
        try:
            result = await _solve(hot.step, request, params, {})
        except Exception as exc:
            handler = _handler(scope["app"], exc)
            if handler is None:
                raise
            response = handler(request, exc)
            if inspect.isawaitable(response):
                response = await response
            await response(scope, receive, send)
            return
        if isinstance(result, Response):
            await result(scope, receive, send)
            return
        body = hot.dump(result)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
        ]
        await send({"type": "http.response.start", "status": hot.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _handler(app: FastAPI, exc: Exception) -> Callable[[Request, Exception], Any] | None:
    """The app's exception handler for `exc`, by its class's MRO, as Starlette picks one."""
    handlers = app.exception_handlers
    for cls in type(exc).__mro__:
        if cls is Exception:  # Starlette's server-error handler's, not the route's
            return None
        if cls in handlers:
            found: Callable[[Request, Exception], Any] = handlers[cls]
            return found
    return None
