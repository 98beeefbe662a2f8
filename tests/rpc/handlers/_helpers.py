"""Small helpers shared by the ledger/transaction handler tests."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.rpc.corpus import call

ALICE = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"
GW = "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm"


class HandlerCase(SynchronousTestCase):
    """Calls one handler over the corpus and checks errors exactly."""

    handler: Any = None

    def call(self, params: dict[str, Any], api_version: int = 1) -> dict[str, Any]:
        return call(self.handler, params, api_version)

    def assertError(
        self,
        params: dict[str, Any],
        token: str,
        code: int | None,
        message: str | None,
        api_version: int = 1,
    ) -> dict[str, Any]:
        """The answer is exactly this error (token, code and message)."""
        answer = self.call(params, api_version)
        self.assertEqual(answer.get("status"), "error", answer)
        self.assertEqual(answer["error"], token)
        self.assertEqual(answer.get("error_code"), code)
        self.assertEqual(answer.get("error_message"), message)
        return answer
