"""``GET /`` for a browser: a small self-refreshing status page.

Clio has no such page; operators poll ``server_info`` and grep. Startup here
can take a long time (initial load, cache load), so a page that shows the
stored ledger range, each ETL source's health, load progress, requests per
second and errors answers "is it working?" at a glance.

The same URL serves JSON-RPC POSTs and WebSocket upgrades, so this resource
only answers what a browser asks for: a GET of ``/`` accepting ``text/html``
(see :func:`wants_status_page`, which the web root calls). The page embeds the
first snapshot (so it shows data at once) and then polls ``/?format=json``
every few seconds; the one renderer is the page's script.

The snapshot comes from an injected provider (sync or async callable returning
a JSON-able dict); :func:`status_provider` builds the usual one from the
metrics, the backend and the ETL's status.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

import clio_twisted
from clio_twisted.backend.interface import IBackend
from clio_twisted.etl.status import EXTRAS
from clio_twisted.metrics import Metrics

Snapshot = dict[str, Any]
SnapshotProvider = Callable[[], "Snapshot | Awaitable[Snapshot]"]

_JSON_TYPE = b"application/json"
_HTML_TYPE = b"text/html; charset=utf-8"
# The page's script and styles are inline; nothing else may load.
_CSP = (
    b"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'"
)


def _asks_json(request: IRequest) -> bool:
    args: dict[bytes, list[bytes]] = request.args or {}
    return args.get(b"format") == [b"json"]


def wants_status_page(request: IRequest) -> bool:
    """Whether a request to ``/`` is for the status page rather than the API.

    True for a GET without ``Upgrade`` that accepts HTML (a browser) or asks
    for ``format=json`` (the page's own refresh). JSON-RPC is POST and
    WebSocket is an upgrade, so neither is ever taken.
    """
    if request.method != b"GET" or request.getHeader(b"upgrade"):
        return False
    if _asks_json(request):
        return True
    accept = (request.getHeader(b"accept") or b"").lower()
    return b"text/html" in accept


def status_provider(
    *,
    metrics: Metrics,
    backend: IBackend | None,
    clock: IReactorTime,
    etl_status: Callable[[], Mapping[str, Any]] | None = None,
    started_at: float | None = None,
) -> Callable[[], Awaitable[Snapshot]]:
    """The usual snapshot provider.

    Args:
        metrics: request and error counts.
        backend: read once per snapshot for the stored range (None: no store yet).
        clock: for uptime and the page's timestamps.
        etl_status: returns the ETL's view as a JSON-able mapping (server_info's
            ``etl`` section fits); the page shows ``sources`` or ``etl_sources``
            (a list of dicts, one per rippled) as a table, any value with
            ``done``/``total`` or ``percent`` as a progress bar, and every other
            key as text.
        started_at: the clock's time at start-up (default: now).
    """
    start = clock.seconds() if started_at is None else started_at

    async def snapshot() -> Snapshot:
        ledger_range: dict[str, int] | None = None
        backend_error: str | None = None
        if backend is not None:
            try:
                stored = await backend.fetch_ledger_range()
            except Exception as e:  # the page must still render when the store is down
                backend_error = f"{type(e).__name__}: {e}"
            else:
                if stored is not None:
                    ledger_range = {"min": stored.min_sequence, "max": stored.max_sequence}
        now = clock.seconds()
        snap: Snapshot = {
            "version": clio_twisted.__version__,
            "time": now,
            "uptime_seconds": round(now - start, 3),
            "ledger_range": ledger_range,
            "requests": {
                "total": metrics.requests_total,
                "per_second": round(metrics.requests_per_second(), 3),
                "errors_total": metrics.errors_total,
                "errors_by_type": dict(metrics.errors_by_type),
            },
            "etl": etl_view(etl_status()) if etl_status is not None else None,
        }
        if backend_error is not None:
            snap["backend_error"] = backend_error
        return snap

    return snapshot


_FLAGS = ("is_connected", "is_writer", "read_only")


def etl_view(section: Mapping[str, Any]) -> dict[str, Any]:
    """server_info's ``etl`` section as the page shows it.

    Our own fields (under ``clio_twisted``, see etl/status.py) are lifted
    beside Clio's, in the section and in each source, and Clio's 0/1 flags
    (``"1"``/``"0"`` strings or numbers) become booleans, so the page can
    colour a source by ``is_connected``.
    """

    def flat(raw: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in raw.items() if k != EXTRAS}
        extras = raw.get(EXTRAS)
        if isinstance(extras, Mapping):
            out.update(extras)
        for key in _FLAGS:
            if key in out and out[key] in ("0", "1", 0, 1):
                out[key] = out[key] in ("1", 1)
        return out

    view = flat(section)
    for key in ("sources", "etl_sources"):
        rows = view.get(key)
        if isinstance(rows, list):
            view[key] = [flat(row) if isinstance(row, Mapping) else row for row in rows]
    return view


def _json_for_script(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, no ``<!--``)."""
    return (
        orjson.dumps(value, default=str)
        .decode()
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class StatusPageResource(Resource):
    """Serves the page (HTML) and its data (``?format=json``).

    Args:
        snapshot: returns the current status (a dict, or an awaitable of one).
        refresh_seconds: how often the page polls.
        is_allowed: optional gate (e.g. admin only); refused requests get 403.
    """

    isLeaf = True
    log = Logger()

    def __init__(
        self,
        snapshot: SnapshotProvider,
        refresh_seconds: float = 2.0,
        is_allowed: Callable[[IRequest], bool] | None = None,
    ) -> None:
        super().__init__()
        self._snapshot = snapshot
        self._refresh = refresh_seconds
        self._is_allowed = is_allowed

    def render_GET(self, request: Request) -> bytes | int:
        request.setHeader(b"cache-control", b"no-store")
        request.setHeader(b"x-content-type-options", b"nosniff")
        if self._is_allowed is not None and not self._is_allowed(request):
            request.setResponseCode(403)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"Forbidden"
        as_json = _asks_json(request)
        d = Deferred.fromCoroutine(self._render(request, as_json))
        request.notifyFinish().addErrback(lambda _: d.cancel())
        d.addErrback(self._failed, request)
        return NOT_DONE_YET

    async def _render(self, request: Request, as_json: bool) -> None:
        result = self._snapshot()
        snap = await result if inspect.isawaitable(result) else result
        if as_json:
            request.setHeader(b"content-type", _JSON_TYPE)
            body = orjson.dumps(snap, default=str)
        else:
            request.setHeader(b"content-type", _HTML_TYPE)
            request.setHeader(b"content-security-policy", _CSP)
            body = render_page(snap, self._refresh).encode()
        request.write(body)
        request.finish()

    def _failed(self, failure: Any, request: Request) -> None:
        if failure.check(CancelledError):
            return  # the browser went away
        self.log.failure("status page snapshot failed", failure)
        request.setResponseCode(500)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        request.write(b"status unavailable")
        request.finish()


def render_page(snapshot: Snapshot, refresh_seconds: float) -> str:
    """The HTML page with ``snapshot`` embedded as its first data."""
    return (
        _PAGE.replace("@@SNAPSHOT@@", _json_for_script(snapshot))
        .replace("@@REFRESH_MS@@", str(int(refresh_seconds * 1000)))
        .replace("@@VERSION@@", clio_twisted.__version__)
    )


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>clio-twisted status</title>
<style>
 body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
 h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.05em; margin: 1.2em 0 .4em; }
 .muted { color: #777; } .ok { color: #17803d; } .bad { color: #b42318; } .warn { color: #b54708; }
 .cards { display: flex; flex-wrap: wrap; gap: .8em; }
 .card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .6em 1em; min-width: 11em; }
 .card b { display: block; font-size: 1.4em; }
 table { border-collapse: collapse; background: #fff; } td, th { border: 1px solid #ddd; padding: .25em .6em; text-align: left; }
 progress { width: 20em; }
</style>
</head>
<body>
<h1>clio-twisted <span class="muted">@@VERSION@@</span></h1>
<div id="updated" class="muted">loading</div>
<h2>Ledgers</h2>
<div class="cards">
 <div class="card">stored range<b id="range">-</b></div>
 <div class="card">requests / s<b id="rps">-</b></div>
 <div class="card">requests<b id="requests">-</b></div>
 <div class="card">errors<b id="errors">-</b></div>
 <div class="card">uptime<b id="uptime">-</b></div>
</div>
<div id="errors-by-type"></div>
<h2>ETL</h2>
<div id="etl" class="muted">no ETL status</div>
<h2>ETL sources</h2>
<div id="sources" class="muted">none</div>
<script id="initial" type="application/json">@@SNAPSHOT@@</script>
<script>
"use strict";
const REFRESH_MS = @@REFRESH_MS@@;
const $ = (id) => document.getElementById(id);
function text(v) {
  if (v === null || v === undefined) return "-";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}
function el(tag, props, children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children || []) e.append(c);
  return e;
}
function duration(s) {
  s = Math.floor(s); const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (s % 60) + "s";
}
function isProgress(v) { return v && typeof v === "object" && (("done" in v && "total" in v) || "percent" in v); }
function healthClass(row) {
  for (const k of ["healthy", "connected", "is_connected"]) if (k in row) return row[k] ? "ok" : "bad";
  return "";
}
function table(rows) {
  const cols = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const head = el("tr", {}, cols.map((c) => el("th", {textContent: c})));
  const body = rows.map((r) => el("tr", {className: healthClass(r)}, cols.map((c) => el("td", {textContent: text(r[c])}))));
  return el("table", {}, [head, ...body]);
}
function render(s) {
  const r = s.ledger_range;
  $("range").textContent = r ? r.min + " - " + r.max : "empty";
  $("range").className = r ? "ok" : "warn";
  $("rps").textContent = s.requests.per_second.toFixed(1);
  $("requests").textContent = s.requests.total;
  $("errors").textContent = s.requests.errors_total;
  $("errors").className = s.requests.errors_total ? "bad" : "";
  $("uptime").textContent = duration(s.uptime_seconds);
  const byType = Object.entries(s.requests.errors_by_type || {});
  $("errors-by-type").replaceChildren(...byType.map(([k, v]) => el("span", {className: "bad", textContent: k + ": " + v + "  "})));
  if (s.backend_error) $("errors-by-type").append(el("div", {className: "bad", textContent: "store: " + s.backend_error}));
  const etl = s.etl || {};
  const parts = [];
  for (const [k, v] of Object.entries(etl)) {
    if (k === "sources" || k === "etl_sources") continue;
    if (isProgress(v) && "percent" in v && !("total" in v)) {
      const rest = Object.entries(v).filter(([name]) => name !== "percent").map(([name, x]) => name + " " + text(x)).join(", ");
      parts.push(el("div", {}, [k + " ", el("progress", {max: 100, value: v.percent}), " " + v.percent + "% " + rest]));
    } else if (isProgress(v)) {
      const pct = v.total ? Math.round(100 * v.done / v.total) : 0;
      parts.push(el("div", {}, [k + " ", el("progress", {max: v.total || 1, value: v.done}), " " + v.done + " / " + v.total + " (" + pct + "%)"]));
    } else {
      parts.push(el("div", {}, [el("span", {className: "muted", textContent: k + ": "}), text(v)]));
    }
  }
  $("etl").replaceChildren(...(parts.length ? parts : ["no ETL status"]));
  const sources = etl.sources || etl.etl_sources || [];
  $("sources").replaceChildren(sources.length ? table(sources) : "none");
  $("updated").textContent = "updated " + new Date(s.time * 1000).toISOString().replace(/\\.\\d+Z$/, "Z");
  $("updated").className = "muted";
}
async function refresh() {
  try {
    const resp = await fetch("/?format=json", {headers: {Accept: "application/json"}, cache: "no-store"});
    if (!resp.ok) throw new Error("HTTP " + resp.status);
    render(await resp.json());
  } catch (e) {
    $("updated").textContent = "stale: " + e.message;
    $("updated").className = "bad";
  }
}
render(JSON.parse($("initial").textContent));
setInterval(refresh, REFRESH_MS);
</script>
</body>
</html>
"""
