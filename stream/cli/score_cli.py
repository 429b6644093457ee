"""`fraudstream score --url URL FILE|-`: send transactions to a worker's scoring API, print answers.

One transaction per line (JSON), or one JSON array; each answer is printed as one JSON line, in
order. A 503 is retried after its Retry-After, as a caller should: the transaction was published
(or will be) and the retry gets its one recorded decision.
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated

import orjson
import typer


def read_transactions(text: bytes) -> list[bytes]:
    """Each transaction's JSON bytes: the items of a JSON array, or the non-blank lines."""
    stripped = text.strip()
    if stripped.startswith(b"["):
        return [orjson.dumps(item) for item in orjson.loads(stripped)]
    return [line for line in (raw.strip() for raw in text.splitlines()) if line]


def score_one(
    url: str, body: bytes, token: str | None, retries: int, timeout_s: float
) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    for attempt in range(retries + 1):
        request = urllib.request.Request(f"{url}/v1/score", data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, reply, wait = error.code, error.read(), error.headers.get("Retry-After")
            if status != 503 or wait is None or attempt == retries:
                return status, reply
            time.sleep(float(wait))
    raise AssertionError("unreachable: the last attempt returns")


# A plain command, not a Typer group: it takes no subcommand, so its help shows none.
def score(
    source: Annotated[str, typer.Argument(help="A file of transactions, or - for stdin")],
    url: Annotated[str, typer.Option(help="The worker's web address")] = "http://127.0.0.1:6066",
    token: Annotated[
        str | None, typer.Option(help="Bearer token (the worker's FRAUD_WEB_TOKEN)")
    ] = None,
    retries: Annotated[int, typer.Option(help="Retries of a 503 after its Retry-After")] = 5,
    timeout_s: Annotated[float, typer.Option(help="Seconds per request")] = 10.0,
) -> None:
    """Score transactions through a worker's online API; prints one JSON line per transaction:
    {"status": ..., "decision" | "error": ...}."""
    text = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    failed = 0
    for body in read_transactions(text):
        status, reply = score_one(url.rstrip("/"), body, token, retries, timeout_s)
        field = "decision" if status == 200 else "error"
        try:
            shown: object = orjson.Fragment(orjson.dumps(orjson.loads(reply)))
        except orjson.JSONDecodeError:
            shown = reply.decode(errors="replace")
        typer.echo(orjson.dumps({"status": status, field: shown}).decode())
        failed += status != 200
    if failed:
        raise typer.Exit(1)
