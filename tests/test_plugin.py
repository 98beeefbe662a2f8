"""The twistd plugin is found under the name ``clio``."""

from __future__ import annotations

from twisted.application.service import IServiceMaker
from twisted.plugin import getPlugins
from twisted.trial.unittest import SynchronousTestCase


class PluginTests(SynchronousTestCase):
    def test_clio_plugin_is_registered(self) -> None:
        """getPlugins(IServiceMaker) yields tapname 'clio' pointing at clio_twisted.tap."""
        makers = {maker.tapname: maker for maker in getPlugins(IServiceMaker)}
        self.assertIn("clio", makers)
        self.assertEqual(makers["clio"].module, "clio_twisted.tap")  # type: ignore[attr-defined]
