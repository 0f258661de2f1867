"""Passwords and session tokens: the cryptography, with no storage.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106 low-memory
profile) and never kept or logged in clear. A login creates a random session token;
the database keeps only its SHA-256, and the browser cookie carries the token plus an
HMAC under a server secret, so a forged or truncated cookie is refused before any
lookup. Repeated failures for a user name slow further attempts down.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from evalcore.errors import InvalidInput

_hasher = PasswordHasher()
#: Verified against when the user does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("evalcore-dummy-password")
MIN_PASSWORD_LENGTH = 8
LOGIN_FAILED = "用户名或密码错误"
#: Failures allowed before each further attempt must wait; the wait doubles, up to the cap.
FREE_FAILURES = 3
MAX_DELAY_SECONDS = 60


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    if password.strip() != password:
        raise InvalidInput("密码首尾不能是空格")


def hash_password(password: str) -> str:
    check_password_policy(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-time check; a missing user still pays for one verification."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database stores: a stolen table yields no usable cookies."""
    return hashlib.sha256(token.encode()).hexdigest()


def sign(token: str, secret: str) -> str:
    mac = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
    return f"{token}.{mac}"


def unsign(cookie: str | None, secret: str) -> str | None:
    """The token inside a cookie whose signature is valid, else None."""
    if not cookie or "." not in cookie:
        return None
    token, _, mac = cookie.rpartition(".")
    expected = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
    return token if hmac.compare_digest(mac, expected) else None


def login_delay(failures: int) -> int:
    """Seconds a user name must wait before the next attempt after ``failures`` in a row."""
    if failures < FREE_FAILURES:
        return 0
    return min(MAX_DELAY_SECONDS, 2 ** (failures - FREE_FAILURES + 1))
