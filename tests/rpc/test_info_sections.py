"""server_info's cache section and rippled's fields (via the forwarder): Clio's keys, deadline, omission."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.cache import StateCache
from clio_twisted.rpc.context import Context, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.rpc.info_sections import CacheInfo, RippledInfo
from tests.fakes.backend import InMemoryBackend

RIPPLED_INFO = {
    "result": {
        "info": {
            "build_version": "3.1.1",
            "load_factor": 1,
            "validation_quorum": 0,
            "network_id": 21338,
            "hostid": "vm",
        },
        "status": "success",
    },
}


class FakeForwarder:
    """Answers each forward with the next scripted item: a dict, an exception, or a hang."""

    request_timeout = 3.0

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.asked: list[tuple[str, JsonDict]] = []

    async def forward(self, ctx: Context, method: str, params: JsonDict) -> JsonDict:
        self.asked.append((method, params))
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        if item == "hang":
            answer: JsonDict = await Deferred()
            return answer
        return dict(item)


def _section(provider: Any, clock: Clock | None = None) -> Deferred[JsonDict]:
    ctx = Context(backend=InMemoryBackend(), clock=clock or Clock(), is_admin=False)
    return Deferred.fromCoroutine(provider.server_info(ctx))


class CacheInfoTests(SynchronousTestCase):
    def test_clio_keys_for_everyone(self) -> None:
        """The cache section has exactly Clio's six keys, shown to non-admin clients too."""
        cache = StateCache()
        cache.update([], 270)
        cache.full = True
        cache.requests, cache.hits = 4, 3
        section = self.successResultOf(_section(CacheInfo(lambda: cache)))
        self.assertEqual(
            section,
            {
                "cache": {
                    "size": 0,
                    "is_enabled": True,
                    "is_full": True,
                    "latest_ledger_seq": 270,
                    "object_hit_rate": 0.75,
                    "successor_hit_rate": 1.0,
                }
            },
        )

    def test_no_etl_no_section(self) -> None:
        """Without an ETL (no cache) the section is left out."""
        self.assertEqual(self.successResultOf(_section(CacheInfo(lambda: None))), {})


class RippledInfoTests(SynchronousTestCase):
    def test_fields_copied_and_renamed(self) -> None:
        """load_factor, validation_quorum, network_id and build_version (as rippled_version) are copied."""
        forwarder = FakeForwarder(RIPPLED_INFO)
        section = self.successResultOf(_section(RippledInfo(forwarder)))
        self.assertEqual(
            section,
            {
                "load_factor": 1,
                "validation_quorum": 0,
                "rippled_version": "3.1.1",
                "network_id": 21338,
            },
        )
        self.assertEqual(forwarder.asked, [("server_info", {})])

    def test_missing_fields_are_not_invented(self) -> None:
        """A field rippled does not give (standalone: no network_id) is not in the answer."""
        info = {"result": {"info": {"build_version": "3.1.1", "load_factor": 1}}}
        section = self.successResultOf(_section(RippledInfo(FakeForwarder(info))))
        self.assertEqual(section, {"load_factor": 1, "rippled_version": "3.1.1"})

    def test_no_source_or_error_answer_omits(self) -> None:
        """No source (connectionError) or an error answer: the fields are omitted, no error."""
        forwarder = FakeForwarder(
            RPCError(RippledError.connectionError),
            {"result": {"error": "noNetwork", "status": "error"}},
        )
        provider = RippledInfo(forwarder)
        self.assertEqual(self.successResultOf(_section(provider)), {})
        self.assertEqual(self.successResultOf(_section(provider)), {})

    def test_never_waits_past_the_deadline(self) -> None:
        """A rippled that never answers costs one forwarding deadline, then the fields are omitted."""
        clock = Clock()
        d = _section(RippledInfo(FakeForwarder("hang")), clock)
        clock.advance(2.9)
        self.assertNoResult(d)
        clock.advance(0.1)
        self.assertEqual(self.successResultOf(d), {})
