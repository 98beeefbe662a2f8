"""The whole-server conformance run: the recorded corpus through the real ETL, every recorded request through the real port.

What it does, in order:

1. a fake rippled replays the recorded rippled 3.1.1 corpus (ledgers 3-270) on
   127.0.0.1:0;
2. the real server (``tap.build_service``: EtlService, backend, HTTP+WS site,
   feeds) follows it into SQLite, or Cassandra with ``--cassandra HOST:PORT``
   (a fresh keyspace, dropped afterwards), its clock set back to the
   recording's time (:class:`ShiftedClock`);
3. when ledger 27 is committed, one WebSocket per recorded rippled stream
   connection sends the very subscribe request rippled got then; the replay
   runs on to ledger 270 and every stream message is compared with rippled's;
4. every recorded exchange (the request, rippled's answer, Clio's answer) is
   asked again over HTTP JSON-RPC on the real listening port, and a sample of
   them over WebSocket; every bad-input case of Clio's handler tests that does
   not depend on Clio's mocked ledger is asked too (its ``error`` and
   ``error_message`` are compared with Clio's);
5. each answer is compared with rippled's, field for field, after the envelope
   rules below; a difference must be listed in docs/conformance.md's
   machine-readable blocks, else the run fails.

Envelope rules (the only things compared loosely, everywhere):

- ``warnings`` are not compared (Clio's 2001 "clio server" and 2002 "out of
  date" warnings depend on the server and the age of the data);
- in an error answer the echoed ``request`` and Clio's ``type`` are not
  compared (rippled echoes the command's fields, Clio ``method`` and
  ``params``: we answer as Clio);
- a plain-text HTTP body is compared without its trailing whitespace (rippled
  ends it with CRLF, Clio does not).

``python -m clio_twisted.testing.conformance`` prints a table per method;
``tests/integration/test_conformance.py`` runs the same thing under trial.
"""

from __future__ import annotations

import argparse
import fnmatch
import io
import json
import lzma
import os
import re
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson
from attrs import define, field, frozen

from twisted.internet.defer import Deferred, DeferredSemaphore, gatherResults
from twisted.internet.task import deferLater
from twisted.logger import Logger

JsonDict = dict[str, Any]

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "conformance"
DOC = ROOT / "docs" / "conformance.md"
FIRST, LAST = 3, 270
SUBSCRIBE_AT = 27  # rippled's streams were subscribed when ledger 27 was the latest
EXCHANGES_FILE = "exchanges.jsonl.xz"
CLIO_ERRORS_FILE = "clio-errors.json.xz"
STREAMS_FILE = "streams.jsonl.xz"
WS_SAMPLE_EVERY = 5  # one exchange in five is also asked over WebSocket
WS_ONLY = frozenset({"subscribe", "unsubscribe"})
STREAMS_NOTE = (
    "streams: rippled's proposed stream is not compared (rippled relays proposed transactions "
    "Clio never sees from a validated ledger; the fake rippled sends none)"
)

SUITE_RIPPLED = "rippled"  # recorded exchanges over HTTP
SUITE_WS = "ws"  # the same, sampled, over WebSocket
SUITE_CLIO_ERRORS = "clio-errors"  # Clio's handler tests' bad inputs
SUITE_STREAMS = "streams"  # what our subscriptions sent, against rippled's recorded streams
SUITE_CLIO_SHAPE = (
    "clio-shape"  # Clio's own answers (server_info, version): the same fields and types
)
CLIO_SHAPES = {"server_info": "clio-server_info.json", "version": "clio-version.json"}

log = Logger()


# --- the recorded data ------------------------------------------------------------------------


@frozen
class Exchange:
    """One recorded request with rippled's and Clio's answers (HTTP)."""

    method: str
    label: str
    api_version: int | None
    request: JsonDict
    rippled_status: int
    rippled: JsonDict
    clio_status: int | None
    clio: JsonDict | None

    @property
    def raw_body(self) -> bytes:
        """The exact HTTP body that was sent."""
        if "_raw" in self.request:
            raw: str = self.request["_raw"]
            return raw.encode()
        return orjson.dumps(self.request)


@frozen
class ClioErrorCase:
    """A bad request from Clio's handler tests and the error Clio's test expects."""

    method: str
    test: str
    api_version: int | None
    request: JsonDict
    error: str
    error_message: str | None


def load_exchanges(data: Path = DATA) -> list[Exchange]:
    """Every recorded exchange of the corpus (``clio-answers/*.jsonl``, compacted)."""
    out = []
    with lzma.open(data / EXCHANGES_FILE, "rt") as f:
        for line in f:
            if not line.strip():
                continue
            e = json.loads(line)
            out.append(
                Exchange(
                    method=e["method"],
                    label=e["label"],
                    api_version=e["api_version"],
                    request=e["request"],
                    rippled_status=e["rippled_http_status"],
                    rippled=e["rippled_response"],
                    clio_status=e.get("clio_http_status"),
                    clio=e.get("clio_response"),
                )
            )
    return out


def load_clio_errors(data: Path = DATA) -> list[ClioErrorCase]:
    """Clio's bad-input cases whose answer does not depend on the mocked ledger of Clio's test."""
    with lzma.open(data / CLIO_ERRORS_FILE, "rt") as f:
        cases = json.load(f)
    return [
        ClioErrorCase(
            method=c["method"],
            test=c["test"],
            api_version=c["api_version"],
            request=c["request"],
            error=c["error"],
            error_message=c["error_message"],
        )
        for c in cases
        if not c.get("depends_on_mocked_state")
    ]


@frozen
class StreamRecording:
    """One of rippled's stream connections: the subscribe request, its answer, then the messages."""

    name: str
    sent: JsonDict
    answer: JsonDict
    messages: tuple[JsonDict, ...]


def load_streams(data: Path = DATA) -> list[StreamRecording]:
    """rippled's recorded stream connections (``streams/*.jsonl`` less ``proposed``)."""
    sent: dict[str, JsonDict] = {}
    received: dict[str, list[JsonDict]] = {}
    with lzma.open(data / STREAMS_FILE, "rt") as f:
        for line in f:
            if not line.strip():
                continue
            item = json.loads(line)
            if "sent" in item:
                sent.setdefault(
                    item["conn"], item["sent"]
                )  # the subscribe (the last is its unsubscribe)
            else:
                received.setdefault(item["conn"], []).append(item["message"])
    out = []
    for name, request in sent.items():
        messages = received.get(name, [])
        answer = next(m for m in messages if m.get("id") == request["id"])
        stream = tuple(m for m in messages if "id" not in m)
        out.append(StreamRecording(name, request, answer, stream))
    return out


# --- the documented differences ---------------------------------------------------------------

EXPECT_CLIO = "clio"  # our answer must equal Clio's
EXPECT_DIFFERS = "differs"  # ours equals neither, on purpose (the reason says why)
EXPECT_PENDING = "pending"  # not built yet (another engineer's work in progress)
EXPECTS = (EXPECT_CLIO, EXPECT_DIFFERS, EXPECT_PENDING)

_BLOCK = re.compile(r"```json conformance\n(.*?)\n```", re.S)


@frozen
class Documented:
    """One kept difference from docs/conformance.md's machine-readable block."""

    suite: str  # SUITE_* or "*"
    method: str  # a method name or a glob
    label: str  # a case label (a Clio test name for clio-errors) or a glob
    api_version: int | None  # None: any
    expect: str
    reason: str
    pin: tuple[tuple[str, str], ...] = ()  # fields our answer must still have, as JSON text
    ignore: tuple[str, ...] = ()  # the only fields that may differ (the rest must be rippled's)

    def covers(self, suite: str, method: str, label: str, api_version: int | None) -> bool:
        return (
            (
                self.suite == "*"
                or self.suite == suite
                or (self.suite == SUITE_RIPPLED and suite == SUITE_WS)
            )
            and fnmatch.fnmatchcase(method, self.method)
            and fnmatch.fnmatchcase(label, self.label)
            and (self.api_version is None or self.api_version == api_version)
        )


class DocumentError(ValueError):
    """docs/conformance.md has no usable machine-readable block."""


def load_documented(doc: Path = DOC) -> list[Documented]:
    """The kept differences listed in the fenced ```json conformance block(s) of ``doc``."""
    blocks = _BLOCK.findall(doc.read_text())
    if not blocks:
        raise DocumentError(f"{doc}: no ```json conformance block")
    out = []
    for block in blocks:
        for item in json.loads(block):
            expect = item["expect"]
            if expect not in EXPECTS:
                raise DocumentError(f"{doc}: expect {expect!r} is not one of {EXPECTS}")
            if not item.get("reason"):
                raise DocumentError(f"{doc}: an entry without a reason: {item}")
            out.append(
                Documented(
                    suite=item.get("suite", SUITE_RIPPLED),
                    method=item["method"],
                    label=item.get("label", "*"),
                    api_version=item.get("api_version"),
                    expect=expect,
                    reason=item["reason"],
                    pin=tuple(
                        sorted((k, _canonical(v)) for k, v in (item.get("pin") or {}).items())
                    ),
                    ignore=tuple(item.get("ignore") or ()),
                )
            )
    return out


def find_documented(
    documented: Sequence[Documented], suite: str, method: str, label: str, api_version: int | None
) -> Documented | None:
    """The first entry covering a case (most specific entries come first in the block)."""
    return next((d for d in documented if d.covers(suite, method, label, api_version)), None)


# --- comparison -------------------------------------------------------------------------------


def normalise_http(status: int, body: JsonDict) -> JsonDict:
    """An HTTP answer as compared: status, result and top-level fields, less the envelope rules."""
    if "_non_json_body" in body:
        return {"http_status": status, "text": body["_non_json_body"].rstrip()}
    out: JsonDict = {"http_status": status}
    for key, value in body.items():
        if key == "warnings":
            continue
        if key == "result" and isinstance(value, dict):
            out["result"] = normalise_result(value)
        else:
            out[key] = value
    return out


def normalise_result(result: JsonDict) -> JsonDict:
    """A ``result`` object as compared (no warnings; no request echo or ``type`` in errors)."""
    out = {k: v for k, v in result.items() if k != "warnings"}
    if out.get("status") == "error":
        out.pop("request", None)
        out.pop("type", None)
    return out


WS_ENVELOPE = frozenset({"id", "api_version", "type", "request", "warnings", "forwarded"})


def ws_as_result(answer: JsonDict) -> JsonDict:
    """A WebSocket answer as the ``result`` object an HTTP client would have seen (less the WS envelope)."""
    if answer.get("status") == "error" or "error" in answer:
        return normalise_result({k: v for k, v in answer.items() if k not in WS_ENVELOPE})
    result = dict(answer.get("result", {}))
    result.setdefault("status", answer.get("status"))
    return normalise_result(result)


def http_result_for_ws(body: JsonDict) -> JsonDict:
    """A recorded HTTP ``result`` as compared with a WebSocket answer (its envelope fields left out)."""
    result = dict(body.get("result", {}))
    if result.get("status") == "error":  # flat over WebSocket: the envelope's fields are beside it
        result = {k: v for k, v in result.items() if k not in WS_ENVELOPE}
    return normalise_result(result)


def first_difference(ours: Any, theirs: Any, path: str = "") -> str:
    """Where two JSON values first differ, as ``path: ours != theirs`` (short)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs)):
            if key not in ours:
                return f"{path}.{key}: missing in ours"
            if key not in theirs:
                return f"{path}.{key}: extra in ours"
            if ours[key] != theirs[key]:
                return first_difference(ours[key], theirs[key], f"{path}.{key}")
        return ""
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return f"{path}: {len(ours)} items != {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            if a != b:
                return first_difference(a, b, f"{path}[{i}]")
        return ""
    text = f"{path}: {json.dumps(ours)[:120]} != {json.dumps(theirs)[:120]}"
    return text


# --- outcomes and the report ------------------------------------------------------------------

RIPPLED = "rippled"  # identical to rippled's answer
AS_CLIO = "clio"  # not rippled's, identical to Clio's, documented
DOCUMENTED = "documented"  # neither, documented as differing on purpose
PENDING = "pending"  # documented as not built yet
DIFFERENT = "different"  # undocumented difference: a failure


@frozen
class CaseResult:
    suite: str
    method: str
    label: str
    api_version: int | None
    outcome: str
    same_as_clio: bool
    detail: str = ""
    ours: Any = field(default=None, eq=False)
    rippled: Any = field(default=None, eq=False)
    clio: Any = field(default=None, eq=False)


@define
class Report:
    cases: list[CaseResult] = field(factory=list)
    used: set[Documented] = field(factory=set)
    notes: list[str] = field(factory=list)

    @property
    def failures(self) -> list[CaseResult]:
        return [c for c in self.cases if c.outcome == DIFFERENT]

    def table(self) -> str:
        """One row per suite and method: cases, = rippled, = Clio, documented, pending, different."""
        rows: dict[tuple[str, str], Counter[str]] = {}
        for c in self.cases:
            counts = rows.setdefault((c.suite, c.method), Counter())
            counts["cases"] += 1
            counts[c.outcome] += 1
            counts["same_as_clio"] += c.same_as_clio
        head = (
            "suite",
            "method",
            "cases",
            "=rippled",
            "=Clio",
            "documented",
            "pending",
            "DIFFERENT",
        )
        lines: list[tuple[str, ...]] = [head]
        total: Counter[str] = Counter()
        for (suite, method), counts in sorted(rows.items()):
            total.update(counts)
            lines.append(_row(suite, method, counts))
        lines.append(_row("all", "", total))
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
        return "\n".join(
            "  ".join(
                str(v).ljust(w) if i < 2 else str(v).rjust(w)
                for i, (v, w) in enumerate(zip(line, widths, strict=True))
            )
            for line in lines
        )


def _row(suite: str, method: str, c: Counter[str]) -> tuple[str, ...]:
    documented = c[AS_CLIO] + c[DOCUMENTED]
    return (
        suite,
        method,
        str(c["cases"]),
        str(c[RIPPLED]),
        str(c["same_as_clio"]),
        str(documented),
        str(c[PENDING]),
        str(c[DIFFERENT]),
    )


def judge(
    suite: str,
    method: str,
    label: str,
    api_version: int | None,
    ours: JsonDict,
    rippled: JsonDict | None,
    clio: JsonDict | None,
    documented: Sequence[Documented],
    report: Report,
) -> CaseResult:
    """Classify one answer (all three already normalised); records which entry excused it."""
    same_as_clio = clio is not None and ours == clio
    entry = find_documented(documented, suite, method, label, api_version)
    reference = rippled if rippled is not None else clio
    if (
        reference is not None
        and ours == reference
        and (entry is None or entry.expect != EXPECT_CLIO or same_as_clio)
    ):
        outcome, detail = RIPPLED, ""
    elif entry is None:
        outcome, detail = DIFFERENT, first_difference(ours, reference)
        if clio is not None and reference is not clio:
            detail += " | vs Clio: " + (first_difference(ours, clio) or "same")
    else:
        report.used.add(entry)
        if entry.expect == EXPECT_PENDING:
            outcome = PENDING
            detail = f"ours {summary(ours)}; rippled {summary(rippled)}; Clio {summary(clio)}"
        elif entry.expect == EXPECT_CLIO:
            if same_as_clio:
                outcome, detail = AS_CLIO, entry.reason
            else:
                outcome = DIFFERENT
                detail = "documented as Clio's answer, but differs from it: " + first_difference(
                    ours, clio
                )
        elif entry.ignore and _without(ours, entry.ignore) != _without(reference, entry.ignore):
            outcome = DIFFERENT
            detail = f"differs beyond {list(entry.ignore)}: " + first_difference(
                _without(ours, entry.ignore), _without(reference, entry.ignore)
            )
        else:
            outcome, detail = DOCUMENTED, entry.reason
        broken = [(k, v) for k, v in entry.pin if _canonical(_fields(ours).get(k)) != v]
        if broken and outcome != PENDING:
            outcome = DIFFERENT
            detail = f"documented answer changed: {broken} now {[_fields(ours).get(k) for k, _ in broken]}"
    result = CaseResult(
        suite, method, label, api_version, outcome, same_as_clio, detail, ours, rippled, clio
    )
    report.cases.append(result)
    return result


def _canonical(value: Any) -> str:
    """A JSON value as comparable, hashable text."""
    return json.dumps(value, sort_keys=True)


def _without(answer: JsonDict | None, names: Sequence[str]) -> JsonDict | None:
    """An answer less some fields, at the top and inside ``result``."""
    if answer is None:
        return None
    out = {k: v for k, v in answer.items() if k not in names}
    if isinstance(out.get("result"), dict):
        out["result"] = {k: v for k, v in out["result"].items() if k not in names}
    return out


def _fields(answer: JsonDict) -> JsonDict:
    """The fields of an answer's result (HTTP) or the answer itself (already a result)."""
    result = answer.get("result")
    return result if isinstance(result, dict) else answer


def summary(answer: JsonDict | None) -> str:
    """A short human description of a normalised answer, for docs/conformance.md."""
    if answer is None:
        return "(none)"
    if "text" in answer:
        return f"HTTP {answer.get('http_status')} text {answer['text'][:80]!r}"
    fields = _fields(answer)
    if fields.get("error") is not None:
        message = fields.get("error_message")
        return f"{fields['error']}" + (f" {message!r}" if message is not None else "")
    return "success"


def suggestion(case: CaseResult) -> JsonDict:
    """A docs entry for an undocumented difference, for a human to give a reason."""
    entry: JsonDict = {
        "suite": case.suite,
        "method": case.method,
        "label": case.label,
        "api_version": case.api_version,
        "expect": EXPECT_CLIO if case.same_as_clio else EXPECT_DIFFERS,
        "rippled": summary(case.rippled),
        "clio": summary(case.clio),
        "ours": summary(case.ours),
        "reason": "TODO: " + case.detail,
    }
    fields = _fields(case.ours or {})
    if fields.get("error") is not None and not case.same_as_clio:
        entry["pin"] = {k: fields[k] for k in ("error", "error_message") if k in fields}
    return entry


# --- the server under test --------------------------------------------------------------------


@define
class Running:
    """The fake rippled and our server, both listening on 127.0.0.1."""

    reactor: Any
    fake: Any
    rippled_port: Any
    service: Any
    etl: Any
    port: int
    cleanup: list[Any] = field(factory=list)

    async def wait_committed(self, sequence: int, timeout: float = 150) -> None:
        """Wait until our ETL has committed ``sequence``."""
        from clio_twisted.etl.status import Phase

        status = self.etl.status
        deadline = self.reactor.seconds() + timeout
        while (status.last_committed or 0) < sequence:
            if status.phase is Phase.FAILED:
                raise RuntimeError(f"ETL failed: {status.error}")
            if self.reactor.seconds() > deadline:
                raise RuntimeError(f"ETL reached only {status.last_committed} in {timeout}s")
            await deferLater(self.reactor, 0.01, lambda: None)
            status = self.etl.status

    async def wait_published(self, timeout: float = 150) -> None:
        """Wait until the publisher has sent every committed ledger.

        The ETL hands a committed ledger to the publisher, which sends it a
        moment later: a client subscribing before that moment would also get
        the ledger it subscribed at, which rippled's recorded clients did not.
        """
        from clio_twisted.feeds.publisher import PublisherService

        publishers = [s for s in self.etl if isinstance(s, PublisherService)]
        deadline = self.reactor.seconds() + timeout
        while not all(p.publisher.idle() for p in publishers):
            if self.reactor.seconds() > deadline:
                raise RuntimeError(f"the publisher did not finish in {timeout}s")
            await deferLater(self.reactor, 0.01, lambda: None)

    async def follow(self, interval: float = 0.005, timeout: float = 150) -> None:
        """Validate the rest of the corpus, one ledger every ``interval`` s; wait for ledger 270."""
        self.fake.start(interval)
        await self.wait_committed(LAST, timeout)

    async def stop(self) -> None:
        """Stop the server, then the fake; wait until every connection to the fake is gone.

        The server leaves its forwarding connections to rippled open when it
        stops; cutting them from the fake's side lets the forwarder drop its
        pooled connections and their idle timers.
        """
        await self.service.stopService()
        await self.rippled_port.stopListening()
        self.fake.stop()
        self.fake.drop_all_connections()
        deadline = self.reactor.seconds() + 5
        while self.fake.connections and self.reactor.seconds() < deadline:
            await deferLater(self.reactor, 0.01, lambda: None)
        await deferLater(self.reactor, 0.05, lambda: None)  # the client sides see the close
        for step in reversed(self.cleanup):
            await step()


def server_config(rippled_port: int, database: JsonDict) -> JsonDict:
    """Our server's config: ephemeral port, local admin, the fake as the only source, ledgers 3-270."""
    return {
        "server": {"ip": "127.0.0.1", "port": 0, "local_admin": True},
        "database": database,
        "etl_sources": [{"ip": "127.0.0.1", "ws_port": str(rippled_port)}],
        "etl": {"start_sequence": FIRST, "finish_sequence": LAST, "num_markers": 4},
        "dos_guard": {"whitelist": ["127.0.0.1"]},
        "graceful_period": 1,
        "log_level": "warn",
    }


def sqlite_database(directory: str) -> JsonDict:
    return {"type": "sqlite", "sqlite": {"path": os.path.join(directory, "clio.sqlite3")}}


def cassandra_database(address: str, keyspace: str) -> JsonDict:
    host, _, port = address.rpartition(":")
    return {
        "type": "cassandra",
        "cassandra": {
            "contact_points": host or address,
            "port": int(port or 9042),
            "keyspace": keyspace,
            "replication_factor": 1,
            "request_timeout": 20,
        },
    }


class ShiftedClock:
    """The reactor, with ``seconds()`` moved back to the time the corpus was recorded.

    The server compares ledger close times with its clock (the publisher
    skips ledgers older than 10 minutes, as Clio does); replayed at the
    recording's time, the recorded ledgers are as fresh as they were for
    rippled. Delays (``callLater``) are relative, so they are unaffected.
    """

    def __init__(self, reactor: Any, shift: float) -> None:
        self._reactor = reactor
        self._shift = shift

    def seconds(self) -> float:
        now: float = self._reactor.seconds()
        return now - self._shift

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reactor, name)


async def start(reactor: Any, database: JsonDict, timeout: float = 150) -> Running:
    """Start the fake rippled and our server; return once ledger ``SUBSCRIBE_AT`` is committed.

    ``Running.follow`` then replays the rest (the streams' clients subscribe in between).
    """
    from clio_twisted.config import config_from_dict
    from clio_twisted.protocol.ledger_header import RIPPLE_EPOCH_UNIX
    from clio_twisted.tap import build_service, default_parts
    from clio_twisted.testing.fake_rippled import RippledFactory, replay_server

    fake = replay_server(reactor, start=FIRST)
    rippled_port = reactor.listenTCP(0, RippledFactory(fake), interface="127.0.0.1")
    config = config_from_dict(server_config(rippled_port.getHost().port, database))
    parts: list[Any] = []

    def capture(config: Any, backend: Any, reactor: Any) -> list[Any]:
        made = default_parts(config, backend, reactor)
        parts.extend(made)
        return made

    first = fake.chain.ledger(FIRST)
    assert first is not None
    shift = reactor.seconds() - (first.header.close_time + RIPPLE_EPOCH_UNIX)
    clock = ShiftedClock(reactor, shift)
    service = build_service(config, clock, parts_factory=capture, install_log_observer=False)
    service.startService()
    await service.when_ready()
    etl = next(p for p in parts if hasattr(p, "status"))
    port: int = service.port.getHost().port  # type: ignore[union-attr]
    running = Running(reactor, fake, rippled_port, service, etl, port)
    try:
        while (fake.chain.last or 0) < SUBSCRIBE_AT:
            fake.validate_next()
            await running.wait_committed(fake.chain.last or 0, timeout)
        await running.wait_published(timeout)
    except BaseException:
        await running.stop()
        raise
    return running


# --- clients ----------------------------------------------------------------------------------


async def post(reactor: Any, agent: Any, port: int, body: bytes) -> tuple[int, JsonDict]:
    """POST one JSON-RPC body; (status, JSON body or ``{"_non_json_body": text}``)."""
    from twisted.web.client import FileBodyProducer, readBody
    from twisted.web.http_headers import Headers

    response = await agent.request(
        b"POST",
        f"http://127.0.0.1:{port}/".encode(),
        Headers({b"content-type": [b"application/json"]}),
        FileBodyProducer(io.BytesIO(body), cooperator=_cooperator(reactor)),
    )
    data = await readBody(response)
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        return response.code, {"_non_json_body": data.decode("utf-8", "replace")}
    return response.code, parsed


_COOPERATORS: dict[int, Any] = {}


def _cooperator(reactor: Any) -> Any:
    from twisted.internet.task import Cooperator

    coop = _COOPERATORS.get(id(reactor))
    if coop is None:
        coop = Cooperator(scheduler=lambda f: reactor.callLater(0, f))
        _COOPERATORS[id(reactor)] = coop
    return coop


class WsClient:
    """One WebSocket connection to our server; ``ask`` sends a request and awaits its answer by id."""

    def __init__(self) -> None:
        self._waiting: dict[Any, Deferred[JsonDict]] = {}
        self._next = 0
        self.protocol: Any = None
        self.closed: Deferred[None] = Deferred()
        self.unsolicited: list[JsonDict] = []  # stream messages (no id)

    @classmethod
    async def connect(cls, reactor: Any, port: int) -> WsClient:
        from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol

        client = cls()
        opened: Deferred[None] = Deferred()

        class Protocol(WebSocketClientProtocol):
            def onOpen(self) -> None:  # noqa: N802
                client.protocol = self
                opened.callback(None)

            def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
                client._received(orjson.loads(payload))

            def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
                if not client.closed.called:
                    client.closed.callback(None)

        url = f"ws://127.0.0.1:{port}"
        factory = WebSocketClientFactory(url, reactor=reactor)
        factory.protocol = Protocol
        factory.setProtocolOptions(maxFramePayloadSize=0, maxMessagePayloadSize=0)
        reactor.connectTCP("127.0.0.1", port, factory)
        await opened
        return client

    def _received(self, message: JsonDict) -> None:
        waiter = self._waiting.pop(message.get("id", -1), None)
        if waiter is not None:
            waiter.callback(message)
        elif "id" not in message:
            self.unsolicited.append(message)

    async def ask_as_sent(self, request: JsonDict) -> JsonDict:
        """Send a request with its own ``id`` and await the answer carrying it."""
        d: Deferred[JsonDict] = Deferred()
        self._waiting[request["id"]] = d
        self.protocol.sendMessage(orjson.dumps(request))
        return await d

    async def ask(self, request: JsonDict) -> JsonDict:
        self._next += 1
        ident = self._next
        d: Deferred[JsonDict] = Deferred()
        self._waiting[ident] = d
        self.protocol.sendMessage(orjson.dumps({**request, "id": ident}))
        return await d

    async def close(self) -> None:
        """Close with 1000 and wait until the connection is gone."""
        if self.protocol is not None:
            self.protocol.sendClose(code=1000)
            await self.closed


# --- the run ----------------------------------------------------------------------------------


async def check_http(
    reactor: Any,
    running: Running,
    exchanges: Iterable[Exchange],
    documented: Sequence[Documented],
    report: Report,
    parallel: int = 6,
) -> None:
    """Ask every recorded exchange over HTTP and judge the answers."""
    from twisted.web.client import Agent, HTTPConnectionPool

    pool = HTTPConnectionPool(reactor, persistent=True)
    pool.maxPersistentPerHost = parallel
    agent = Agent(reactor, pool=pool)
    gate = DeferredSemaphore(parallel)

    async def one(e: Exchange) -> None:
        status, body = await post(reactor, agent, running.port, e.raw_body)
        clio = (
            normalise_http(e.clio_status, e.clio) if e.clio is not None and e.clio_status else None
        )
        judge(
            SUITE_RIPPLED,
            e.method,
            e.label,
            e.api_version,
            normalise_http(status, body),
            normalise_http(e.rippled_status, e.rippled),
            clio,
            documented,
            report,
        )

    try:
        await _gather(gate, (one(e) for e in exchanges))
    finally:
        await pool.closeCachedConnections()


async def _gather(gate: DeferredSemaphore, coroutines: Iterable[Any]) -> None:
    """Run coroutines at most ``gate.limit`` at a time; fails with the first failure."""

    def run(coro: Any) -> Deferred[Any]:
        return gate.run(lambda: Deferred.fromCoroutine(coro))

    await gatherResults([run(c) for c in coroutines], consumeErrors=True)


def ws_request(e: Exchange) -> JsonDict | None:
    """The WebSocket form of a recorded JSON-RPC request (None for raw or method-less bodies)."""
    if "_raw" in e.request or "method" not in e.request:
        return None
    params = e.request.get("params") or [{}]
    return {"command": e.request["method"], **params[0]}


async def check_ws(
    reactor: Any,
    running: Running,
    exchanges: Sequence[Exchange],
    documented: Sequence[Documented],
    report: Report,
) -> None:
    """Ask every ``WS_SAMPLE_EVERY``-th exchange over one WebSocket; judge the result objects."""
    client = await WsClient.connect(reactor, running.port)
    try:
        for e in exchanges[::WS_SAMPLE_EVERY]:
            request = ws_request(e)
            if request is None or e.rippled_status != 200:
                continue
            answer = await client.ask(request)
            rippled = http_result_for_ws(e.rippled)
            clio = http_result_for_ws(e.clio) if e.clio and "result" in e.clio else None
            judge(
                SUITE_WS,
                e.method,
                e.label,
                e.api_version,
                ws_as_result(answer),
                rippled,
                clio,
                documented,
                report,
            )
    finally:
        await client.close()


def stream_key(message: JsonDict) -> tuple[Any, ...]:
    """What identifies a stream message: its type, ledger and (for a transaction) its hash."""
    kind = message.get("type")
    if kind == "transaction":
        tx = message.get("transaction") or {}
        return (kind, message.get("ledger_index"), message.get("hash") or tx.get("hash"))
    return (kind, message.get("ledger_index"))


def stream_label(key: tuple[Any, ...]) -> str:
    if len(key) == 3:
        return f"{key[0]} {key[1]} {str(key[2])[:16]}"
    return f"{key[0]} {key[1]}"


class StreamWatch:
    """Our server's streams, subscribed as rippled's were when ledger 27 was the latest."""

    def __init__(self, recordings: Sequence[StreamRecording]) -> None:
        self.recordings = list(recordings)
        self.clients: dict[str, WsClient] = {}
        self.answers: dict[str, JsonDict] = {}

    async def subscribe(self, reactor: Any, port: int) -> None:
        for rec in self.recordings:
            client = await WsClient.connect(reactor, port)
            self.clients[rec.name] = client
            self.answers[rec.name] = await client.ask_as_sent(dict(rec.sent))

    def _done(self) -> bool:
        """Every connection has seen the last message rippled sent on it."""
        for rec in self.recordings:
            if rec.messages:
                last = stream_key(rec.messages[-1])
                if all(stream_key(m) != last for m in self.clients[rec.name].unsolicited):
                    return False
        return True

    async def settle(self, reactor: Any, quiet: float = 0.3, timeout: float = 60) -> None:
        """Wait for each connection's last expected message (bounded), then for ``quiet`` seconds of silence."""
        deadline = reactor.seconds() + timeout
        while not self._done() and reactor.seconds() < deadline:
            await deferLater(reactor, 0.05, lambda: None)
        last = -1
        while reactor.seconds() < deadline:
            count = sum(len(c.unsolicited) for c in self.clients.values())
            if count == last:
                return
            last = count
            await deferLater(reactor, quiet, lambda: None)

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()

    def judge(self, documented: Sequence[Documented], report: Report) -> None:
        for rec in self.recordings:
            version = rec.sent.get("api_version", 1)
            ours_answer = ws_as_result(self.answers[rec.name])
            judge(
                SUITE_STREAMS,
                rec.name,
                "subscribe answer",
                version,
                ours_answer,
                ws_as_result(rec.answer),
                None,
                documented,
                report,
            )
            ours = {stream_key(m): m for m in self.clients[rec.name].unsolicited}
            theirs = {stream_key(m): m for m in rec.messages}
            order_ours = [
                k
                for k in (stream_key(m) for m in self.clients[rec.name].unsolicited)
                if k in theirs
            ]
            judge(
                SUITE_STREAMS,
                rec.name,
                "message order",
                version,
                {"order": [stream_label(k) for k in order_ours]},
                {"order": [stream_label(stream_key(m)) for m in rec.messages]},
                None,
                documented,
                report,
            )
            for key, message in theirs.items():
                judge(
                    SUITE_STREAMS,
                    rec.name,
                    stream_label(key),
                    version,
                    ours.get(key, {"missing": True}),
                    message,
                    None,
                    documented,
                    report,
                )
            for key in ours.keys() - theirs.keys():
                judge(
                    SUITE_STREAMS,
                    rec.name,
                    "extra " + stream_label(key),
                    version,
                    ours[key],
                    {"absent": True},
                    None,
                    documented,
                    report,
                )


def skeleton(value: Any) -> Any:
    """A JSON value's shape: objects keep their keys, lists their first item's shape, scalars their type."""
    if isinstance(value, dict):
        return {k: skeleton(v) for k, v in value.items()}
    if isinstance(value, list):
        return [skeleton(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "null"


# Objects whose keys are data, not fields (server_info's counters by method name): each
# of our entries is compared with one of Clio's, whatever methods either run happened to call.
KEYED_BY_DATA = frozenset({"result.info.counters.rpc"})


def shape_differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Every place two skeletons differ: ``missing PATH``, ``extra PATH``, ``type PATH: ours != theirs``."""
    if path in KEYED_BY_DATA and isinstance(ours, dict) and isinstance(theirs, dict):
        if not ours or not theirs:
            return []
        sample = next(iter(theirs.values()))
        found = (shape_differences(v, sample, f"{path}.*") for v in ours.values())
        return sorted({d for differences in found for d in differences})
    if isinstance(ours, dict) and isinstance(theirs, dict):
        out = []
        for key in sorted(set(ours) | set(theirs)):
            where = f"{path}.{key}" if path else key
            if key not in ours:
                out.append(f"missing {where}")
            elif key not in theirs:
                out.append(f"extra {where}")
            else:
                out.extend(shape_differences(ours[key], theirs[key], where))
        return out
    if isinstance(ours, list) and isinstance(theirs, list):
        if ours and theirs:
            return shape_differences(ours[0], theirs[0], path + "[]")
        return []
    if ours != theirs:
        return [f"type {path}: {ours} != {theirs}"]
    return []


async def check_clio_shapes(
    reactor: Any, running: Running, data: Path, documented: Sequence[Documented], report: Report
) -> None:
    """Clio's own answers (admin server_info, version): ours must have the same fields, of the same types.

    Values differ by nature (time, uptime, ports, versions); the shape is Clio's contract.
    """
    from twisted.web.client import Agent

    agent = Agent(reactor)
    for method, name in CLIO_SHAPES.items():
        recorded = json.loads((data / name).read_text())
        body = orjson.dumps({"method": method, "params": [{}]})
        status, ours = await post(reactor, agent, running.port, body)
        differences = shape_differences(
            skeleton(normalise_http(status, ours)), skeleton(normalise_http(200, recorded))
        )
        judge(
            SUITE_CLIO_SHAPE,
            method,
            "admin, no params",
            None,
            {"differences": differences},
            None,
            {"differences": []},
            documented,
            report,
        )


async def check_clio_errors(
    reactor: Any,
    running: Running,
    cases: Sequence[ClioErrorCase],
    documented: Sequence[Documented],
    report: Report,
) -> None:
    """Clio's bad-input cases (over WebSocket: subscribe is WebSocket-only); error and message as Clio's."""
    client = await WsClient.connect(reactor, running.port)
    try:
        for c in cases:
            request = {**c.request, "command": c.method}
            if c.api_version is not None:
                request["api_version"] = c.api_version
            answer = await client.ask(request)
            ours = {"error": answer.get("error")}
            expected = {"error": c.error}
            if c.error_message is not None:
                ours["error_message"] = answer.get("error_message")
                expected["error_message"] = c.error_message
            judge(
                SUITE_CLIO_ERRORS,
                c.method,
                c.test,
                c.api_version,
                ours,
                None,
                expected,
                documented,
                report,
            )
    finally:
        await client.close()


async def run(
    reactor: Any,
    database: JsonDict,
    data: Path = DATA,
    doc: Path = DOC,
    methods: Sequence[str] = (),
) -> Report:
    """The whole run on one backend; the Report says what matched and what did not."""
    documented = load_documented(doc)
    exchanges = [e for e in load_exchanges(data) if not methods or e.method in methods]
    cases = [c for c in load_clio_errors(data) if not methods or c.method in methods]
    report = Report(notes=[STREAMS_NOTE])
    running = await start(reactor, database)
    watch = StreamWatch([] if methods else load_streams(data))
    try:
        await watch.subscribe(reactor, running.port)
        await running.follow()
        await watch.settle(reactor)
        watch.judge(documented, report)
        await watch.close()
        await check_http(reactor, running, exchanges, documented, report)
        await check_ws(reactor, running, exchanges, documented, report)
        await check_clio_errors(reactor, running, cases, documented, report)
        if not methods:
            await check_clio_shapes(reactor, running, data, documented, report)
    finally:
        await running.stop()
    stale = [d for d in documented if d not in report.used and not methods]
    for d in stale:
        report.notes.append(
            f"documented but never needed: {d.suite} {d.method} {d.label!r} ({d.expect})"
        )
    return report


def drop_keyspace(address: str, keyspace: str) -> None:
    """Drop the run's Cassandra keyspace (blocking: call it in a thread)."""
    from cassandra.cluster import Cluster

    host, _, port = address.rpartition(":")
    cluster = Cluster(
        [host or address], port=int(port or 9042), protocol_version=4, connect_timeout=5
    )
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
    finally:
        cluster.shutdown()


def print_report(report: Report, out: Any = sys.stdout, verbose: bool = False) -> None:
    out.write(report.table() + "\n")
    for c in report.failures:
        out.write(f"DIFFERENT {c.suite} {c.method} v{c.api_version} {c.label!r}: {c.detail}\n")
    if verbose:
        for c in report.cases:
            if c.outcome in (PENDING, DOCUMENTED, AS_CLIO):
                out.write(
                    f"{c.outcome} {c.suite} {c.method} v{c.api_version} {c.label!r}: {c.detail}\n"
                )
    for note in report.notes:
        out.write(f"note: {note}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clio_twisted.testing.conformance",
        description="Replay the recorded rippled 3.1.1 corpus through the real ETL and server; "
        "compare every answer with rippled's and Clio's.",
    )
    parser.add_argument(
        "--cassandra",
        metavar="HOST:PORT",
        help="use Cassandra (a fresh keyspace) instead of SQLite",
    )
    parser.add_argument(
        "--method", action="append", default=[], help="only this method (repeatable)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="list documented and pending cases too"
    )
    parser.add_argument(
        "--suggest",
        metavar="FILE",
        help="write a docs entry (JSON, one a line) for each undocumented difference",
    )
    args = parser.parse_args(argv)

    import warnings

    from twisted.internet import reactor as global_reactor

    # Twisted's readBody warns about the client transport on every answer; nothing to act on here.
    warnings.filterwarnings("ignore", "Using readBody with a transport", DeprecationWarning)
    from twisted.internet.threads import deferToThread

    reactor: Any = global_reactor
    outcome: list[int] = []

    async def go() -> None:
        with tempfile.TemporaryDirectory(prefix="clio-conformance-") as tmp:
            if args.cassandra:
                keyspace = f"conformance_{uuid.uuid4().hex[:10]}"
                database = cassandra_database(args.cassandra, keyspace)
            else:
                database = sqlite_database(tmp)
            try:
                report = await run(reactor, database, methods=args.method)
            finally:
                if args.cassandra:
                    await deferToThread(drop_keyspace, args.cassandra, keyspace)
        print_report(report, verbose=args.verbose)
        if args.suggest:
            with open(args.suggest, "w") as f:
                for case in report.failures:
                    f.write(json.dumps(suggestion(case)) + "\n")
        outcome.append(1 if report.failures else 0)

    def done(result: Any) -> None:
        if not outcome:
            outcome.append(2)
            sys.stderr.write(f"conformance run failed: {result}\n")
        reactor.stop()

    reactor.callWhenRunning(lambda: Deferred.fromCoroutine(go()).addBoth(done))
    reactor.run()
    return outcome[0] if outcome else 2


if __name__ == "__main__":
    raise SystemExit(main())
