"""Online scoring: POST /v1/score and /v1/score:batch on the worker's web server.

A request is validated here by the stream's own decoder (an invalid body gets the category and
detail its dead letter would carry) and passed on to the worker that owns the card's partition.
The owner decides it at once, as the stream would (online.py: same state, features, models,
budget and fallback), publishes it to the input topic with that decision sealed on it, and
answers once the broker acknowledged the record; the stream then emits exactly that decision.
A transaction already decided (a retry) is answered with its decision
(docs/decision-path.md, "Online requests").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

import aiohttp
import orjson
from aiohttp import web

from schemas import DeadLetter, Decoder, SourceCoords, Transaction
from stream.decision_path.api_routing import ROUTED_HEADER, Forwarder, Owners, card_partition
from stream.decision_path.online import OnlineDecider, Request

log = logging.getLogger(__name__)

JSON = "application/json"
RETRY_AFTER_S = "1"


class Result(NamedTuple):
    status: int
    body: Any  # a decision record (bytes) when status is 200, else an error object
    retry: bool = False


def unavailable(why: str) -> Result:
    return Result(503, {"error": "unavailable", "detail": why}, retry=True)


def rejected(letter: DeadLetter) -> Result:
    return Result(
        422,
        {
            "error": "invalid transaction",
            "category": letter.category.value,
            "field": letter.field,
            "detail": letter.detail,
        },
    )


class ScoringApi:
    def __init__(
        self,
        decoder: Decoder[Transaction],
        input_topic: str,
        partitions: int,
        max_event_bytes: int,
        max_batch: int,
        owners: Owners,
        forwarder: Forwarder,
        online: OnlineDecider,
        is_ready: Callable[[], tuple[bool, str]],
    ) -> None:
        self._decoder = decoder
        self._input_topic = input_topic
        self._partitions = partitions
        self._max_bytes = max_event_bytes
        self._max_batch = max_batch
        self._owners = owners
        self._forwarder = forwarder
        self._online = online
        self._is_ready = is_ready

    def register(self, web_app: web.Application, noop: bool) -> None:
        web_app.router.add_post("/v1/score", self.score)
        web_app.router.add_post("/v1/score:batch", self.score_batch)
        if noop:
            web_app.router.add_post("/v1/noop", noop_view)

    # -- views -----------------------------------------------------------------------------

    async def score(self, request: web.Request) -> web.StreamResponse:
        raw = await read_capped(request, self._max_bytes)
        if raw is None:
            return too_large(f"a transaction is at most {self._max_bytes} bytes")
        transaction = self._validate(raw, datetime.now(UTC))
        if isinstance(transaction, Result):
            return respond(transaction)
        partition = card_partition(transaction.card_id, self._partitions)
        owner = self._owner(partition, request)
        if isinstance(owner, Result):
            return respond(owner)
        if owner != self._owners.own_url:
            return await self._relay(f"{owner}/v1/score", raw, request)
        (result,) = await self._decide_here([(transaction, raw, partition)])
        return respond(result)

    async def score_batch(self, request: web.Request) -> web.StreamResponse:
        limit = self._max_batch * (self._max_bytes + 2)
        body = await read_capped(request, limit)
        if body is None:
            return too_large(f"a batch is at most {limit} bytes")
        try:
            items = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return respond(Result(422, {"error": "not JSON", "detail": str(exc)}))
        if not isinstance(items, list):
            return respond(Result(422, {"error": "a batch is a JSON array of transactions"}))
        if len(items) > self._max_batch:
            return too_large(f"a batch holds at most {self._max_batch} transactions")
        results: list[Result | None] = [None] * len(items)
        local: list[tuple[int, Transaction, bytes, int]] = []
        remote: dict[str, list[tuple[int, bytes]]] = {}
        # One `now` for the batch, as the stage takes one per micro-batch: the decoder derives
        # its event-time window once per distinct `now`.
        now = datetime.now(UTC)
        for index, item in enumerate(items):
            raw = orjson.dumps(item)
            transaction = self._validate(raw, now)
            if isinstance(transaction, Result):
                results[index] = transaction
                continue
            partition = card_partition(transaction.card_id, self._partitions)
            owner = self._owner(partition, request)
            if isinstance(owner, Result):
                results[index] = owner
            elif owner == self._owners.own_url:
                local.append((index, transaction, raw, partition))
            else:
                remote.setdefault(owner, []).append((index, raw))
        forwarded = [self._forward_batch(owner, group, request) for owner, group in remote.items()]
        decided, *relayed = await asyncio.gather(
            self._decide_here([(t, raw, p) for _, t, raw, p in local]), *forwarded
        )
        for (index, *_), result in zip(local, decided, strict=True):
            results[index] = result
        for group_results in relayed:
            for index, result in group_results:
                results[index] = result
        return web.Response(body=orjson.dumps([batch_item(r) for r in results]), content_type=JSON)

    # -- steps -----------------------------------------------------------------------------

    def _validate(self, raw: bytes, now: datetime) -> Transaction | Result:
        """The stream's own verdict on these bytes (the key rule holds: the key is set here)."""
        # Coordinates for the letter's text only: a rejected request is answered, not published.
        source = SourceCoords(self._input_topic, 0, 0, None, int(time.time() * 1000))
        decoded = self._decoder.decode(raw, source, now=now)
        if isinstance(decoded, DeadLetter):
            return rejected(decoded)
        return decoded

    def _owner(self, partition: int, request: web.Request) -> str | Result:
        ready, why = self._is_ready()
        if not ready:
            return unavailable(f"this worker is not ready: {why}")
        owner = self._owners.owner_of(partition)
        if owner is None:
            return unavailable("the group is rebalancing: no owner of the card's partition")
        if owner != self._owners.own_url and ROUTED_HEADER in request.headers:
            return unavailable("the card's owner is changing (a rebalance)")
        return owner

    async def _decide_here(self, requests: list[tuple[Transaction, bytes, int]]) -> list[Result]:
        """Decide the transactions of cards this worker owns, now (one decider call)."""
        results: list[Result | None] = []
        here: list[Request] = []
        for transaction, raw, partition in requests:
            if self._owners.consuming(partition):
                here.append(Request(transaction, raw, partition))
                results.append(None)
            else:
                results.append(unavailable("the card's partition is moving to another worker"))
        answers = iter(await self._online.decide(here) if here else [])
        decided = []
        for result in results:
            if result is None:
                answer = next(answers)
                if answer.decision is not None:
                    result = Result(200, answer.decision)
                else:
                    reason = {"error": "unavailable", "detail": answer.unavailable}
                    result = Result(503, reason, retry=answer.retry)
            decided.append(result)
        return decided

    async def _relay(self, url: str, body: bytes, request: web.Request) -> web.StreamResponse:
        try:
            status, answer, headers = await self._forwarder.forward(
                url, body, request.headers.get("Authorization")
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            return respond(unavailable(f"the card's owner did not answer: {exc!r}"))
        return web.Response(status=status, body=answer, headers=headers)

    async def _forward_batch(
        self, owner: str, group: list[tuple[int, bytes]], request: web.Request
    ) -> list[tuple[int, Result]]:
        body = b"[" + b",".join(raw for _, raw in group) + b"]"
        try:
            status, answer, _ = await self._forwarder.forward(
                f"{owner}/v1/score:batch", body, request.headers.get("Authorization")
            )
            items = orjson.loads(answer) if status == 200 else None
        except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
            items, status = None, 503
            log.warning("forwarding a batch failed", extra={"owner": owner, "error": repr(exc)})
        if not isinstance(items, list) or len(items) != len(group):
            failed = unavailable(f"the card's owner answered {status}")
            return [(index, failed) for index, _ in group]
        return [(index, relayed_item(item)) for (index, _), item in zip(group, items, strict=True)]


async def read_capped(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is longer than `limit` (read no further than that)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = await request.content.read(limit + 1)
    return None if len(body) > limit else body


def respond(result: Result) -> web.Response:
    body = result.body if result.status == 200 else orjson.dumps(result.body)
    headers = {"Retry-After": RETRY_AFTER_S} if result.retry else None
    return web.Response(status=result.status, body=body, content_type=JSON, headers=headers)


def too_large(detail: str) -> web.Response:
    return respond(Result(413, {"error": "too large", "detail": detail}))


def batch_item(result: Result | None) -> dict[str, Any]:
    assert result is not None  # every index was filled above
    if result.status == 200:
        return {"status": 200, "decision": orjson.Fragment(result.body)}
    item = {"status": result.status, "error": result.body}
    if result.retry:
        item["retry_after_s"] = int(RETRY_AFTER_S)
    return item


def relayed_item(item: dict[str, Any]) -> Result:
    status = int(item.get("status", 503))
    if status == 200:
        return Result(200, orjson.dumps(item["decision"]))
    return Result(status, item.get("error"), retry="retry_after_s" in item)


async def noop_view(request: web.Request) -> web.StreamResponse:
    """The benchmark's baseline: the same server, middleware and body read; no work."""
    await request.read()
    return web.Response(body=b"{}", content_type=JSON)
