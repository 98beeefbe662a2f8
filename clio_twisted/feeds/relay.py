"""Proposed transactions, validations and manifests: relayed from one source's rippled streams.

Every ETL source subscribes to rippled's ``manifests``, ``validations`` and
``transactions_proposed`` streams (``RELAY_STREAMS``), but only one source's
messages are relayed, so a client gets each once: the first healthy source
heard from, kept while it stays healthy (as Clio's forwarding source). From
``transactions_proposed`` only the proposed ones (no ``meta``) are relayed:
validated transactions are published by this server from its own store.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from clio_twisted.feeds.manager import SubscriptionManager

RELAY_STREAMS = ("ledger", "manifests", "validations", "transactions_proposed")

JsonDict = dict[str, Any]


class Relay:
    """Routes one chosen source's stream messages into the subscriptions."""

    log = Logger()

    def __init__(self, manager: SubscriptionManager) -> None:
        self.manager = manager
        self.chosen: Any = None
        self.relayed = 0

    def _is_chosen(self, source: Any) -> bool:
        current = self.chosen
        if current is None or (current is not source and not getattr(current, "healthy", False)):
            self.chosen = source
            self.log.info(
                "relaying proposed transactions, validations and manifests from {source}",
                source=getattr(source, "name", source),
            )
            return True
        return current is source

    def on_stream(self, source: Any, message: JsonDict) -> None:
        """A source's stream message (``WsSource(on_stream=...)``)."""
        if not self._is_chosen(source):
            return
        kind = message.get("type")
        if kind == "transaction":
            if "meta" in message or message.get("validated") is True:
                return
            self.manager.publish_proposed(message)
        elif kind == "validationReceived":
            self.manager.publish_stream("validations", message)
        elif kind == "manifestReceived":
            self.manager.publish_stream("manifests", message)
        else:
            return
        self.relayed += 1
