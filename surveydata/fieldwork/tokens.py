"""Invitation tokens: drawn from `secrets`, stored only as a hash, compared in constant time.

A token is 22 URL-safe characters (128 random bits). The database keeps its SHA-256; the
clear token exists only in the invitation files that `surveydata invite` writes.

Example:
    >>> t = new_token()
    >>> len(t), matches(t, token_hash(t)), matches(t + "x", token_hash(t))
    (22, True, False)
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

__all__ = ["TOKEN_PATTERN", "looks_like_token", "matches", "new_token", "token_hash"]

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_token() -> str:
    """A fresh unguessable token (128 bits from the operating system's CSPRNG)."""
    return secrets.token_urlsafe(16)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest stored in place of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def matches(token: str, stored_hash: str) -> bool:
    """Whether `token` hashes to `stored_hash` (constant-time comparison)."""
    return hmac.compare_digest(token_hash(token), stored_hash)


def looks_like_token(text: str) -> bool:
    """Cheap shape check before any database lookup."""
    return bool(TOKEN_PATTERN.fullmatch(text or ""))
