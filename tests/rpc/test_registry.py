"""The handler registry: every listed module loads, one command each, and nothing is skipped."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc import handlers as handlers_package
from clio_twisted.rpc.context import Handler
from clio_twisted.rpc.handlers import HANDLER_MODULES, load_handlers

PACKAGE = handlers_package.__name__


class RegistryTests(SynchronousTestCase):
    def test_every_listed_module_loads_a_distinct_command(self) -> None:
        """Each of HANDLER_MODULES has a HANDLER for its own command; none is missing or shared."""
        self.assertEqual(len(set(HANDLER_MODULES)), len(HANDLER_MODULES))
        registry = load_handlers()
        self.assertEqual(len(registry), len(HANDLER_MODULES))
        for module_name in HANDLER_MODULES:
            module = importlib.import_module(f"{PACKAGE}.{module_name}")
            handler = module.HANDLER
            self.assertIsInstance(handler, Handler)
            self.assertEqual(handler.name, module_name.rstrip("_"), module_name)
            self.assertIs(registry[handler.name], handler)

    def test_clio_mpt_commands_registered(self) -> None:
        """Clio's MPT account commands are served and never forwarded."""
        registry = load_handlers()
        for name in ("account_mptokens", "account_mptoken_issuances", "mpt_holders"):
            self.assertTrue(registry[name].clio_only, name)

    def test_missing_module_fails_loudly(self) -> None:
        """A listed module that does not exist stops loading with an error naming it."""
        with self.assertRaises(ModuleNotFoundError) as caught:
            load_handlers((*HANDLER_MODULES, "no_such_command_module"))
        self.assertEqual(caught.exception.name, f"{PACKAGE}.no_such_command_module")
        self.assertIn("HANDLER_MODULES", str(caught.exception))

    def test_module_without_handler_fails(self) -> None:
        """A listed module with no HANDLER is a TypeError, not a silent gap."""
        name = f"{PACKAGE}._registry_test_empty"
        self.patch(sys, "modules", {**sys.modules, name: types.ModuleType(name)})
        with self.assertRaises(TypeError):
            load_handlers(("ping", "_registry_test_empty"))

    def test_broken_import_inside_handler_propagates(self) -> None:
        """A handler whose own import fails raises that import's error, not the listing one."""
        folder = Path(self.mktemp())
        folder.mkdir()
        (folder / "_registry_test_broken.py").write_text("import no_such_dependency_for_tests\n")
        self.patch(handlers_package, "__path__", [*handlers_package.__path__, str(folder)])
        self.addCleanup(sys.modules.pop, f"{PACKAGE}._registry_test_broken", None)
        with self.assertRaises(ModuleNotFoundError) as caught:
            load_handlers(("_registry_test_broken",))
        self.assertEqual(caught.exception.name, "no_such_dependency_for_tests")

    def test_two_modules_for_one_command_fail(self) -> None:
        """Listing one command twice is refused."""
        with self.assertRaises(ValueError):
            load_handlers(("ping", "ping"))
