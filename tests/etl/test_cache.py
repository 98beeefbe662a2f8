"""The state cache: ordered keys, successor links, book bases, background load."""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.cache import StateCache, book_base, is_book_directory
from clio_twisted.backend.interface import FIRST_KEY, LAST_KEY, LedgerObject, LedgerWrite
from clio_twisted.etl.status import EtlStatus, LoadProgress, Phase
from tests.fakes.backend import InMemoryBackend

# A book directory (DirectoryNode without Owner) and an owner directory (with Owner).
BOOK_DIR = bytes.fromhex("1100642200000000") + bytes.fromhex("5820") + bytes(32)
OWNER_DIR = bytes.fromhex("110064") + bytes.fromhex("8214") + bytes(20)
ACCOUNT = bytes.fromhex("1100612200000000")


def key(n: int, tail: int = 0) -> bytes:
    return bytes([n]) + bytes(23) + tail.to_bytes(8, "big")


class CacheTests(SynchronousTestCase):
    def test_book_directory_detection(self) -> None:
        """Directories without Owner are book directories; with Owner, or not a directory, they are not."""
        self.assertTrue(is_book_directory(BOOK_DIR))
        self.assertFalse(is_book_directory(OWNER_DIR))
        self.assertFalse(is_book_directory(ACCOUNT))

    def test_links_of_creates_and_deletes(self) -> None:
        """Created keys and the predecessors of created/deleted keys get links to their new successors."""
        cache = StateCache()
        cache.update([LedgerObject(key(1), ACCOUNT), LedgerObject(key(5), ACCOUNT)], 1)
        cache.full = True
        links = cache.apply_ledger(
            [
                LedgerObject(key(3), ACCOUNT),
                LedgerObject(key(5), b""),
                LedgerObject(key(9), ACCOUNT),
            ],
            2,
        )
        self.assertEqual(
            dict(links),
            {key(1): key(3), key(3): key(9), key(9): LAST_KEY},
        )
        self.assertEqual(cache.successor(key(3), 2), key(9))
        self.assertIsNone(cache.successor(key(9), 2))
        self.assertIsNone(cache.successor(key(3), 1))  # not the latest: the store answers
        links = cache.apply_ledger([LedgerObject(key(1), b"")], 3)
        self.assertEqual(dict(links), {FIRST_KEY: key(3)})

    def test_book_base_links(self) -> None:
        """Creating or deleting a book's directories moves its base link; an empty book links to LAST_KEY."""
        cache = StateCache()
        cache.full = True
        links = dict(cache.apply_ledger([LedgerObject(key(7, 50), BOOK_DIR)], 1))
        self.assertEqual(links[book_base(key(7, 50))], key(7, 50))
        links = dict(cache.apply_ledger([LedgerObject(key(7, 20), BOOK_DIR)], 2))
        self.assertEqual(links[book_base(key(7))], key(7, 20))
        links = dict(cache.apply_ledger([LedgerObject(key(7, 20), b"")], 3))
        self.assertEqual(links[book_base(key(7))], key(7, 50))
        links = dict(
            cache.apply_ledger([LedgerObject(key(7, 50), b""), LedgerObject(key(8), ACCOUNT)], 4)
        )
        self.assertEqual(links[book_base(key(7))], LAST_KEY)

    def test_full_links_cover_the_chain(self) -> None:
        """full_links chains FIRST_KEY through every key to LAST_KEY, plus book bases."""
        cache = StateCache()
        cache.update([LedgerObject(key(2), ACCOUNT), LedgerObject(key(4, 9), BOOK_DIR)], 1)
        links = dict(cache.full_links())
        self.assertEqual(links[FIRST_KEY], key(2))
        self.assertEqual(links[key(2)], key(4, 9))
        self.assertEqual(links[key(4, 9)], LAST_KEY)
        self.assertEqual(links[book_base(key(4))], key(4, 9))

    def test_background_load_does_not_resurrect_newer_changes(self) -> None:
        """Ledgers applied while the load runs win over the older snapshot being loaded."""
        backend = InMemoryBackend()
        objects = [LedgerObject(key(i), ACCOUNT + bytes([i])) for i in range(1, 6)]
        header = bytes(118)
        self.successResultOf(Deferred.fromCoroutine(backend.write_state_objects(10, objects)))
        self.successResultOf(
            Deferred.fromCoroutine(
                backend.write_ledger(LedgerWrite(10, header, b"h" * 32, is_first=True))
            )
        )
        cache = StateCache()
        pages = 0
        fetch_page = backend.fetch_ledger_page

        async def fetch_page_while_ledger_11_arrives(cursor, sequence, limit):  # type: ignore[no-untyped-def]
            nonlocal pages
            pages += 1
            if pages == 1:
                # ledger 11 deletes key 2 and changes key 4 while the load is under way
                cache.update([LedgerObject(key(2), b""), LedgerObject(key(4), b"new")], 11)
            return await fetch_page(cursor, sequence, limit)

        backend.fetch_ledger_page = fetch_page_while_ledger_11_arrives  # type: ignore[method-assign]
        self.successResultOf(Deferred.fromCoroutine(cache.load_from(backend, 10, page_size=2)))
        self.assertGreater(pages, 2)
        self.assertTrue(cache.full)
        self.assertEqual(cache.latest_sequence, 11)
        self.assertIsNone(cache.peek(key(2)))
        self.assertEqual(cache.peek(key(4)), b"new")
        self.assertEqual(cache.peek(key(3)), ACCOUNT + bytes([3]))
        self.assertEqual(cache.progress.loaded, 5)


class StatusTests(SynchronousTestCase):
    def test_loading_is_not_healthy_and_reports_progress(self) -> None:
        """While loading, /health says not ready and shows objects, rate and ETA."""
        status = EtlStatus(phase=Phase.LOADING)
        status.load = LoadProgress(
            sequence=9, objects=500, fraction=0.25, started=0.0, updated=10.0
        )
        healthy, body = status.health()
        self.assertFalse(healthy)
        self.assertEqual(body["initial_load"]["objects_per_second"], 50.0)
        self.assertEqual(body["initial_load"]["eta_seconds"], 30.0)
        info = status.server_info(12.0)
        self.assertEqual(info["clio_twisted"]["initial_load"]["percent"], 25.0)
        self.assertEqual(info["clio_twisted"]["phase"], "loading")

    def test_committed_writer_is_healthy(self) -> None:
        """After a commit the server is ready and healthy; server_info shows the publish age."""
        status = EtlStatus(
            phase=Phase.WRITING, is_writer=True, last_committed=5, last_commit_time=1.0
        )
        healthy, body = status.health()
        self.assertTrue(healthy)
        self.assertEqual(body["ledger_index"], 5)
        self.assertEqual(status.server_info(4.9)["last_publish_age_seconds"], "3")
        self.assertEqual(status.server_info(4.0)["is_writer"], 1)

    def test_server_info_has_clio_types_and_keys(self) -> None:
        """Clio's etl keys carry Clio's types (0/1 numbers, strings); ours are under clio_twisted only."""
        raw_sources = [
            {
                "ip": "127.0.0.1",
                "ws_port": "6006",
                "validated_range": "3-270",
                "is_connected": True,
                "latest_validated": 270,
                "network_id": None,
                "refused": None,
                "last_msg_age_seconds": 13.7,
            },
            {"ip": "10.0.0.2", "ws_port": "6007", "validated_range": "", "is_connected": False},
        ]
        status = EtlStatus(
            phase=Phase.READING,
            read_only=True,
            error="stopped",
            sources=lambda: raw_sources,
        )
        info = status.server_info(100.0)
        self.assertEqual(
            info["etl_sources"][0],
            {
                "validated_range": "3-270",
                "is_connected": "1",
                "ip": "127.0.0.1",
                "ws_port": "6006",
                "grpc_port": "",
                "last_msg_age_seconds": "13",
                "clio_twisted": {"latest_validated": 270, "network_id": None, "refused": None},
            },
        )
        self.assertEqual(
            info["etl_sources"][1],
            {
                "validated_range": "",
                "is_connected": "0",
                "ip": "10.0.0.2",
                "ws_port": "6007",
                "grpc_port": "",
            },
        )
        self.assertEqual((info["is_writer"], info["read_only"]), (0, 1))
        self.assertNotIn("last_publish_age_seconds", info)  # nothing published yet, as Clio
        self.assertEqual(
            info["clio_twisted"], {"phase": "reading", "state_map_bytes": 0, "error": "stopped"}
        )
        self.assertEqual(set(info), {"etl_sources", "is_writer", "read_only", "clio_twisted"})
