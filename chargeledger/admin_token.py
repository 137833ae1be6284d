"""The admin key: CHARGELEDGER_ADMIN_TOKEN, or one generated once and kept in the data dir."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def load_or_create_admin_token(configured: str | None, data_dir: Path) -> tuple[str, bool]:
    """Return (token, newly_generated)."""
    if configured:
        return configured, False
    path = data_dir / "admin_token"
    if path.exists():
        return path.read_text().strip(), False
    data_dir.mkdir(parents=True, exist_ok=True)
    token = "cla_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token, True
