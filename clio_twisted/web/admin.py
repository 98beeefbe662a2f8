"""Who is admin: a local client, or (when ``server.admin_password`` is set) one sending the password header.

As Clio: with a password configured, a client is admin only when it sends
``Authorization: Password <X>`` where ``X`` is the SHA-256 of the password in
hex (any case); being local is then not enough. Without a password (the
default, or ``local_admin: true``), clients on 127.0.0.1 or ::1 are admin.
The comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from clio_twisted.config import ServerConfig

PASSWORD_PREFIX = b"Password "


def client_address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The peer's address, an IPv4-mapped IPv6 one (``::ffff:1.2.3.4``) as the IPv4 it carries.

    None when ``ip`` is not an address (a Unix socket, a test transport).
    """
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback(ip: str) -> bool:
    address = client_address(ip)
    return address == ipaddress.ip_address("127.0.0.1") or address == ipaddress.ip_address("::1")


class AdminPolicy:
    """Decides per request whether the client is admin."""

    def __init__(self, server: ServerConfig) -> None:
        self._digest: bytes | None = None
        if server.admin_password is not None:
            digest = hashlib.sha256(server.admin_password.encode("utf-8")).hexdigest().upper()
            self._digest = digest.encode("ascii")

    @property
    def uses_password(self) -> bool:
        return self._digest is not None

    def is_admin(self, ip: str, authorization: bytes | str | None) -> bool:
        """``ip`` is the peer address; ``authorization`` the raw Authorization header, if any."""
        if self._digest is None:
            return is_loopback(ip)
        if authorization is None:
            return False
        if isinstance(authorization, str):
            authorization = authorization.encode("utf-8", "replace")
        if not authorization.startswith(PASSWORD_PREFIX):
            return False
        offered = authorization[len(PASSWORD_PREFIX) :].upper()
        return hmac.compare_digest(offered, self._digest)
