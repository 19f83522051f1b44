"""A query parameter a route declares, given twice, is a 422: no route takes a
list, and taking the last value (as Starlette does) would hide a client's
mistake — `?window_minutes=5&window_minutes=60` answered for one of them."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request

from photochanger.errors import ValidationFailed

_DECLARED: dict[int, tuple[APIRoute, frozenset[str]]] = {}


def _declared(route: APIRoute) -> frozenset[str]:
    """The query parameters of a route and of its dependencies, by the name a
    client sends; worked out once per route (routes are not hashable: by id,
    checked against the route itself)."""
    found = _DECLARED.get(id(route))
    if found is None or found[0] is not route:
        found = (route, frozenset(_query_names(route.dependant)))
        _DECLARED[id(route)] = found
    return found[1]


def _query_names(dependant: Dependant) -> Iterator[str]:
    for param in dependant.query_params:
        yield param.alias
    for sub in dependant.dependencies:
        yield from _query_names(sub)


async def single_query_values(request: Request) -> None:
    """App-wide dependency: refuses a declared query parameter given more than
    once; undeclared ones are ignored as before."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.url.query:
        return
    declared = _declared(route)
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name in declared and name in seen:
            raise ValidationFailed(
                f"the query parameter {name} was given more than once",
                [{"field": f"query.{name}", "message": "given more than once; give it once"}],
            )
        seen.add(name)
