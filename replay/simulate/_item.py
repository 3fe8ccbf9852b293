"""The copied item a 303 names: its Location URL in each dialect, with a fake ``tempauth``."""

from __future__ import annotations

import base64
import hashlib
import json

from replay.simulate.scenarios import DIALECT_SHAPES

__all__ = ["item_location"]


def item_location(dialect: str, job_id: str, item: str | None) -> str:
    """A 303 Location: the copied item's URL in ``dialect``'s shape (a fake, JWT-shaped
    ``tempauth`` where the shape carries one), the same for the same job."""
    digest = hashlib.sha256(job_id.encode()).hexdigest()

    def b64(document: dict[str, str]) -> str:
        raw = json.dumps(document, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = {"aud": "00000003-0000-0ff1-ce00-000000000000", "ver": "hashedprooftoken"}
    tempauth = f"{b64({'typ': 'JWT', 'alg': 'none'})}.{b64({**claims, 'nonce': digest[:16]})}."
    return DIALECT_SHAPES[dialect].item_url.format(
        drive=digest[16:40], item=item or f"01{digest[40:64].upper()}", tempauth=tempauth
    )
