"""``clio-twisted``: operator commands outside the server itself.

- ``clio-twisted check-config PATH``: the same validation as start-up; prints
  ``ok`` (and any warnings) and exits 0, or prints the one-line error and exits 1.
- ``clio-twisted verify [--config PATH] [--ledger N] ...``: checks the stored
  ledgers against their own hashes (:mod:`clio_twisted.verify_store`).

The server itself runs under twistd: ``twistd -n clio --config PATH``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import IO

import clio_twisted
from clio_twisted.config import ConfigError, load_config
from clio_twisted.verify_store import add_verify_command


def check_config(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    try:
        config = load_config(args.path)
    except ConfigError as e:
        err.write(f"clio-twisted: config error: {e}\n")
        return 1
    for warning in config.warnings:
        err.write(f"clio-twisted: warning: {warning}\n")
    out.write(f"ok: {args.path}\n")
    return 0


def _add_check_config(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check-config", help="validate a config file as start-up would, and exit")
    p.add_argument("path", help="the JSON config file")
    p.set_defaults(run=check_config)


Command = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

# One entry per subcommand.
COMMANDS: tuple[Command, ...] = (_add_check_config, add_verify_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clio-twisted",
        description="clio-twisted operator tools (the server runs as: twistd -n clio --config PATH)",
    )
    parser.add_argument("--version", action="version", version=clio_twisted.__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def main(
    argv: Sequence[str] | None = None, out: IO[str] | None = None, err: IO[str] | None = None
) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args, out or sys.stdout, err or sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
