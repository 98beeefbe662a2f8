"""Shared check for rippled-style owner-directory paging: every item once, in order, no marker at the end."""

from __future__ import annotations

from typing import Any

from attrs import evolve

from twisted.trial.unittest import SynchronousTestCase

from tests.rpc.corpus import call, corpus_context


def admin(version: int = 1) -> Any:
    return evolve(corpus_context(version), is_admin=True)


def walk(
    case: SynchronousTestCase, handler: Any, params: dict[str, Any], field: str, limit: int
) -> list[Any]:
    """All items of ``field`` over every page of ``limit``; checks limit/marker on each page."""
    ctx = admin()
    items: list[Any] = []
    params = {**params, "limit": limit}
    for _ in range(300):
        out = call(handler, params, ctx=ctx)
        items += out[field]
        if "marker" not in out:
            case.assertNotIn("limit", out)
            return items
        case.assertEqual(out["limit"], limit)
        params = {**params, "marker": out["marker"]}
    case.fail("no last page")
    return items


def check_walks(
    case: SynchronousTestCase, handler: Any, params: dict[str, Any], field: str
) -> list[Any]:
    """The unpaged answer, after checking that walks of limit 1, 2 and 3 reproduce it."""
    whole: list[Any] = call(handler, params, ctx=admin())[field]
    for limit in (1, 2, 3):
        case.assertEqual(walk(case, handler, params, field, limit), whole, limit)
    return whole
