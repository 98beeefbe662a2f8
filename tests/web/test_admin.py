"""Who is admin: localhost by default, else the SHA-256 password header exactly as Clio checks it."""

from __future__ import annotations

import hashlib

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.config import ServerConfig
from clio_twisted.web.admin import AdminPolicy

DIGEST = hashlib.sha256(b"s3cret").hexdigest()


class AdminPolicyTests(SynchronousTestCase):
    def test_localhost_is_admin_by_default(self) -> None:
        """Without a password, 127.0.0.1 and ::1 (and v4-mapped) are admin; others are not."""
        policy = AdminPolicy(ServerConfig())
        for ip in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
            self.assertTrue(policy.is_admin(ip, None), ip)
        for ip in ("10.0.0.1", "127.0.0.2", "", "junk"):
            self.assertFalse(policy.is_admin(ip, None), ip)

    def test_password_header(self) -> None:
        """With a password, 'Password <sha256 hex>' (any case) is admin, from anywhere."""
        policy = AdminPolicy(ServerConfig(admin_password="s3cret"))
        self.assertTrue(policy.is_admin("203.0.113.1", b"Password " + DIGEST.encode()))
        self.assertTrue(policy.is_admin("203.0.113.1", "Password " + DIGEST.upper()))

    def test_password_mode_refuses_everything_else(self) -> None:
        """With a password set, localhost alone, the plain password, or a wrong scheme is not admin."""
        policy = AdminPolicy(ServerConfig(admin_password="s3cret"))
        self.assertFalse(policy.is_admin("127.0.0.1", None))
        self.assertFalse(policy.is_admin("127.0.0.1", b"Password s3cret"))
        self.assertFalse(policy.is_admin("127.0.0.1", b"Bearer " + DIGEST.encode()))
        self.assertFalse(policy.is_admin("127.0.0.1", b"Password " + DIGEST.encode() + b"0"))
