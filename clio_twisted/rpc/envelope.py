"""Request framing and the response envelope, exactly as Clio answers over HTTP and WebSocket.

HTTP JSON-RPC (``POST /``, body ``{"method": ..., "params": [{...}]}``):

- body not a JSON object: 400 ``Unable to parse JSON from the request`` (plain text)
- ``params`` missing, null, ``""``, ``{}``, ``[]``, ``[null]`` or ``[""]``: taken as ``[{}]``
- ``method`` missing: 400 ``Null method``; not a string: 400 ``method is not string``;
  empty: 400 ``method is empty``
- a WebSocket-only command (subscribe): 400, JSON ``badSyntax`` error
- ``params`` not an array of exactly one object: 400 ``params unparseable``
- bad ``api_version`` (in the params object): 400 ``invalid_API_version``
- the work queue full (``server.max_queue_size``): 503, the bare ``tooBusy`` error object
- otherwise 200: ``{"result": {..., "status": "success"}, "warnings": [...]}`` or
  ``{"result": {error, error_code, error_message, status, type, [id], request}, "warnings": [...]}``

WebSocket (one JSON object per text message, fields flat; ``command`` or ``method``):

- not a JSON object, or a binary frame: ``badSyntax`` error object (no request echo)
- no usable command: ``missingCommand``; bad ``api_version``: ``invalid_API_version``
  (both echo ``id``, ``api_version`` and ``request``; no warnings)
- success: ``{"result": {...}, "id", "api_version", "status": "success", "type": "response", "warnings"}``
- error: the error object flat, with ``id``, ``api_version``, ``request`` and ``warnings``

``id`` and ``api_version`` are echoed only when the request carried them (non-null).
The functions here return JSON-ready dicts; the web layer serialises them,
so the DOS guard can add its ``load`` warning to the very bytes it counts.
"""

from __future__ import annotations

from typing import Any

import orjson
from attrs import frozen

from twisted.internet.defer import CancelledError

from clio_twisted.config import ApiVersionConfig
from clio_twisted.rpc.dispatch import Caller, Dispatcher, Outcome
from clio_twisted.rpc.errors import RippledError, RPCError

JsonDict = dict[str, Any]

TEXT_BAD_JSON = "Unable to parse JSON from the request"
TEXT_NULL_METHOD = "Null method"
TEXT_METHOD_NOT_STRING = "method is not string"
TEXT_METHOD_EMPTY = "method is empty"
TEXT_PARAMS_UNPARSEABLE = "params unparseable"
TEXT_INVALID_API_VERSION = "invalid_API_version"
WS_ONLY_MESSAGE = "Subscribe and unsubscribe are only allowed or websocket."


@frozen
class HttpAnswer:
    """An HTTP reply: a JSON body (``json``) or a plain-text one (``text``)."""

    status: int
    json: JsonDict | None = None
    text: str | None = None


def parse_api_version(request: JsonDict, versions: ApiVersionConfig) -> int:
    """The request's ``api_version`` (or the default), checked as Clio does."""
    if "api_version" not in request:
        return versions.default
    value = request["api_version"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise RPCError(RippledError.invalid_API_version, "API version must be an integer")
    if value > versions.max:
        raise RPCError(
            RippledError.invalid_API_version,
            f"Requested API version is higher than maximum supported ({versions.max})",
        )
    if value < versions.min:
        raise RPCError(
            RippledError.invalid_API_version,
            f"Requested API version is lower than minimum supported ({versions.min})",
        )
    return value


def load_json_object(data: bytes | str) -> JsonDict | None:
    """The JSON object in ``data``, or None if it is not valid JSON (UTF-8) holding an object."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _should_replace_params(request: JsonDict) -> bool:
    if "params" not in request:
        return True
    params = request["params"]
    if params is None or params == "" or params == {} or params == []:
        return True
    return isinstance(params, list) and (params[0] is None or params[0] == "")


def compose_error(error: RPCError, request: JsonDict | None, ws: bool) -> JsonDict:
    """Clio's error object: the error, then ``id`` (and over WS ``api_version``), then ``request``."""
    out = error.to_json()
    if request is not None:
        if request.get("id") is not None:
            out["id"] = request["id"]
        if ws and request.get("api_version") is not None:
            out["api_version"] = request["api_version"]
        out["request"] = request
    return out


def _http_outcome(outcome: Outcome, request: JsonDict) -> JsonDict:
    if outcome.error is not None:
        body: JsonDict = {"result": compose_error(outcome.error, request, ws=False)}
    else:
        result = outcome.result if outcome.result is not None else {}
        if outcome.forwarded and "result" in result:
            body = dict(result)
        else:
            body = {"result": dict(result)}
        if outcome.forwarded:
            body["forwarded"] = True
        inner = body.get("result")
        if isinstance(inner, dict) and "error" not in inner:
            inner["status"] = "success"
    if outcome.warnings:
        body["warnings"] = list(outcome.warnings)
    return body


async def answer_http(dispatcher: Dispatcher, body: bytes, caller: Caller) -> HttpAnswer:
    """Answer one JSON-RPC POST body."""
    request = load_json_object(body)
    if request is None:
        return HttpAnswer(400, text=TEXT_BAD_JSON)
    try:
        if _should_replace_params(request):
            request["params"] = [{}]
        if "method" not in request:
            return HttpAnswer(400, text=TEXT_NULL_METHOD)
        method = request["method"]
        if not isinstance(method, str):
            return HttpAnswer(400, text=TEXT_METHOD_NOT_STRING)
        if not method:
            return HttpAnswer(400, text=TEXT_METHOD_EMPTY)
        handler = dispatcher.lookup(method)
        if handler is not None and handler.ws_only:
            error = RPCError(RippledError.badSyntax, WS_ONLY_MESSAGE)
            return HttpAnswer(400, json={"result": compose_error(error, request, ws=False)})
        params = request["params"]
        if not isinstance(params, list) or len(params) != 1 or not isinstance(params[0], dict):
            return HttpAnswer(400, text=TEXT_PARAMS_UNPARSEABLE)
        try:
            version = parse_api_version(params[0], dispatcher.base_context.api_versions)
        except RPCError:
            return HttpAnswer(400, text=TEXT_INVALID_API_VERSION)
        outcome = await dispatcher.execute(method, params[0], version, caller)
        if outcome.refused and outcome.error is not None:
            # the work queue is full: Clio answers 503 with the bare error object
            return HttpAnswer(503, json=outcome.error.to_json())
        return HttpAnswer(200, json=_http_outcome(outcome, request))
    except CancelledError:
        raise
    except Exception:
        dispatcher.log.failure("answering an HTTP request failed")
        internal = RPCError(RippledError.internal)
        return HttpAnswer(500, json={"result": compose_error(internal, request, ws=False)})


def ws_bad_syntax() -> JsonDict:
    """The reply to a WebSocket message that is not a JSON object (Clio echoes nothing)."""
    return RPCError(RippledError.badSyntax).to_json()


def ws_command(request: JsonDict) -> str:
    """The command of a WebSocket request: ``command`` or ``method``, exactly one, a string."""
    value: Any = None
    if "command" not in request and "method" in request:
        value = request["method"]
    elif "command" in request and "method" not in request:
        value = request["command"]
    if not isinstance(value, str):
        raise RPCError(
            RippledError.missingCommand, "Method/Command is not specified or is not a string."
        )
    return value


def _ws_outcome(outcome: Outcome, request: JsonDict) -> JsonDict:
    if outcome.error is not None:
        body = compose_error(outcome.error, request, ws=True)
    else:
        result = outcome.result if outcome.result is not None else {}
        body = dict(result) if outcome.forwarded else {"result": dict(result)}
        if outcome.forwarded:
            body["forwarded"] = True
        if request.get("id") is not None:
            body["id"] = request["id"]
        if request.get("api_version") is not None:
            body["api_version"] = request["api_version"]
        if "error" not in body:
            body["status"] = "success"
        body["type"] = "response"
    if outcome.warnings:
        body["warnings"] = list(outcome.warnings)
    return body


async def answer_ws(dispatcher: Dispatcher, message: bytes, caller: Caller) -> JsonDict:
    """Answer one WebSocket text message."""
    return await answer_ws_request(dispatcher, load_json_object(message), caller)


async def answer_ws_request(
    dispatcher: Dispatcher, request: JsonDict | None, caller: Caller
) -> JsonDict:
    """Answer one WebSocket message already parsed (:func:`load_json_object`; None: not an object).

    For a transport that looks at the request itself before dispatching
    (the hot answers' key), so the message is parsed once.
    """
    if request is None:
        return ws_bad_syntax()
    try:
        try:
            method = ws_command(request)
            version = parse_api_version(request, dispatcher.base_context.api_versions)
        except RPCError as e:
            return compose_error(e, request, ws=True)
        outcome = await dispatcher.execute(method, request, version, caller)
        return _ws_outcome(outcome, request)
    except CancelledError:
        raise
    except Exception:
        dispatcher.log.failure("answering a WebSocket request failed")
        return compose_error(RPCError(RippledError.internal), request, ws=True)


def ws_error(error: RPCError, message: bytes) -> JsonDict:
    """An error for a message the transport refused (``slowDown``): ``id`` and the request echoed."""
    out = error.to_json()
    request = load_json_object(message)
    if request is None:
        out["request"] = message.decode("utf-8", "replace")
        return out
    if request.get("id") is not None:
        out["id"] = request["id"]
    out["request"] = request
    return out


# rippled's JSON objects are ordered maps, so every object it writes has its keys
# in byte order; sorting here makes our bytes rippled's, at ~0.1 us an answer.
JSON_OPTIONS = orjson.OPT_SORT_KEYS


def dumps(body: JsonDict) -> bytes:
    """Serialise an answer as rippled orders it; a result that is not JSON-serialisable becomes ``internal``."""
    try:
        return orjson.dumps(body, option=JSON_OPTIONS)
    except TypeError:
        return orjson.dumps(RPCError(RippledError.internal).to_json(), option=JSON_OPTIONS)
