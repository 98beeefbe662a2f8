"""The in-memory fake passes the storage contract."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from zope.interface.verify import verifyObject

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import IBackend
from tests.backend.contract import BackendContract
from tests.fakes.backend import InMemoryBackend


class InMemoryBackendTests(BackendContract, SynchronousTestCase):
    def setUp(self) -> None:
        self.backend = InMemoryBackend()
        self.drive(self.backend.start())

    def open_peer(self, read_only: bool = False) -> InMemoryBackend:
        return InMemoryBackend(self.backend.store, read_only=read_only)

    def drive(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.successResultOf(Deferred.fromCoroutine(coro))

    def test_provides_interface(self) -> None:
        """The fake provides IBackend as zope.interface checks it."""
        self.assertTrue(verifyObject(IBackend, self.backend))
