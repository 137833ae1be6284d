"""The official OCPI examples are kept byte for byte as published (CC BY-ND 4.0): each file
matches the digest its README names, and the README names every file."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "ocpi_examples"


def test_every_vendored_example_is_unmodified() -> None:
    listed = dict(
        re.findall(r"\| `(examples/[^`]+)` \| `([0-9a-f]{64})` \|", (HERE / "README.md").read_text())
    )
    present = {str(path.relative_to(HERE)) for path in (HERE / "examples").glob("*.json")}

    assert set(listed) == present
    for name, digest in listed.items():
        assert hashlib.sha256((HERE / name).read_bytes()).hexdigest() == digest, name
