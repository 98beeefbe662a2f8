"""Start-up errors of the storage backends (the runtime ones are in interface.py)."""

from __future__ import annotations


class SchemaMissing(RuntimeError):
    """A read-only server found no clio-twisted schema: it never creates one, a writer must."""
