"""Receipt codes: how a reporter without an account follows their case. Only a hash is stored."""

from __future__ import annotations

import hashlib
import secrets

# 128 bits of randomness, grouped for reading aloud or typing from a phone.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: fewer typing mistakes
_LENGTH = 26  # 32**26 = 2**130


def new_receipt_code() -> str:
    """A fresh, unguessable receipt code such as ``K7QD-…``."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
    return "-".join(raw[i : i + 5] for i in range(0, _LENGTH, 5))


def normalise_receipt(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch in _ALPHABET)


def receipt_hash(code: str) -> str:
    """What the store keeps: the code itself cannot be recovered from it."""
    return hashlib.sha256(normalise_receipt(code).encode()).hexdigest()
