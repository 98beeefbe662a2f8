"""The web suites written for Twisted Web, run again with the lean front in front of the site.

Every test of ``test_http``, ``test_websocket``, ``test_dosguard`` (HTTP part)
and ``test_malformed`` passes unchanged when connections are built by
:class:`~clio_twisted.web.fast_http.FastHttpFactory`: the fast path is a
transport, not a second API.
"""

from __future__ import annotations

from typing import Any

from attrs import evolve

from clio_twisted.web.fast_http import FastHttpFactory
from tests.fakes.backend import InMemoryBackend
from tests.web import helpers, test_dosguard, test_http, test_malformed, test_websocket
from tests.web.helpers import Server


def make_fast_server(
    raw_config: dict[str, Any] | None = None, backend: InMemoryBackend | None = None
) -> Server:
    """helpers.make_server, with connections built by the lean front."""
    server = helpers.make_server(raw_config, backend)
    factory = FastHttpFactory(
        server.site,
        server.dispatcher,
        server.guard,
        server.root._admin,
        server.inflight,
        server.clock,
    )
    return evolve(server, site=factory)


class _Fast:
    """Mixin: every make_server of the reused module builds a fast server."""

    module: Any

    def setUp(self) -> None:
        self.patch(self.module, "make_server", make_fast_server)  # type: ignore[attr-defined]
        super().setUp()  # type: ignore[misc]


class FastTransportErrorTests(_Fast, test_http.TransportErrorTests):
    module = test_http


class FastEnvelopeTests(_Fast, test_http.EnvelopeTests):
    module = test_http


class FastWebSocketTests(_Fast, test_websocket.WebSocketTests):
    module = test_websocket


class FastHttpDosTests(_Fast, test_dosguard.HttpDosTests):
    module = test_dosguard


class FastMalformedInputTests(_Fast, test_malformed.MalformedInputTests):
    module = test_malformed


class FastHealthTests(_Fast, test_http.HealthTests):
    module = test_http


class FastDisconnectTests(_Fast, test_http.DisconnectTests):
    module = test_http
