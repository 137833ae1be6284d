"""Standard Webhooks signatures (standardwebhooks.com): `v1,` + base64 of HMAC-SHA256, keyed with
the secret's decoded bytes, over `{webhook-id}.{webhook-timestamp}.{body}`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    """`whsec_` + base64 of 24 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.digest(key, signed, hashlib.sha256)).decode()


def signature_header(secrets_in_use: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """Every secret in use signs (both, for a day after a rotation), space-separated."""
    return " ".join(signature(secret, message_id, timestamp, body) for secret in secrets_in_use)
