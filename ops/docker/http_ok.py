"""Health-check probe for the compose services: exit 0 when GET <url> answers 2xx, else 1.

The slim Python image has neither curl nor wget. The worker wants FRAUD_WEB_TOKEN on every
endpoint but /health (its /ready included), so the probe sends it when the environment has one.
Standard library only: it runs in the image without the project installed.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def probe(url: str, token: str | None, timeout_s: float = 3.0) -> bool:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: http_ok.py URL", file=sys.stderr)
        return 2
    return 0 if probe(argv[1], os.environ.get("FRAUD_WEB_TOKEN") or None) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
