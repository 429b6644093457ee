"""Deciding online requests at request time, on the owner of the card's partition.

The stream's own parts, read-only: the card and merchant state as the tables hold them plus the
overlay of this worker's online decisions not applied yet (`Enricher.peek`), the live plan's
models, budget and fallback (`BatchDecider`, one call for all the request's transactions). The
decision, its card-state record and its scoring log travel sealed on the input record
(online_seal.py); the request is answered once the broker acknowledged that record. From then
the decision is durable: whichever worker applies the record emits exactly it (stage.py), after
a crash too. Nothing here writes a table: state changes only in the agent, in partition order.

A retry of a transaction the overlay holds is answered with that decision once its record is
acknowledged; one the card state already decided, with the recorded decision (not published
again: the stream has it).
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import NamedTuple, cast

import orjson

from models.features import facts_from_transaction, window_sums
from schemas import Transaction
from stream.decision_path.api_publish import RequestPublisher
from stream.decision_path.deciding import BatchDecider, PendingEvent
from stream.decision_path.enrich import Enricher
from stream.decision_path.metrics import StreamMetrics
from stream.decision_path.online_seal import Carried, sealed_headers
from stream.decision_path.overlay import Entry, Overlay

NO_KEY = (
    "online scoring is off: FRAUD_API_DECISION_KEY (the group's key for sealing online "
    "decisions) is not set"
)


class Answer(NamedTuple):
    """What a request gets: the decision record, or why there is none (and if a retry helps)."""

    decision: bytes | None
    unavailable: str | None = None
    retry: bool = True


class Request(NamedTuple):
    transaction: Transaction
    raw: bytes  # the validated bytes, published as they are
    partition: int


class OnlineDecider:
    def __init__(
        self,
        enricher: Enricher,
        decider: BatchDecider,
        overlay: Overlay,
        publisher: RequestPublisher,
        key: bytes | None,
        timeout_s: float,
        metrics: StreamMetrics,
    ) -> None:
        self._enricher = enricher
        self._decider = decider
        self._overlay = overlay
        self._publisher = publisher
        self._key = key
        self._timeout_s = timeout_s
        self._metrics = metrics
        self._results = metrics.online_decisions
        self._phases = metrics.online_phase_seconds
        self._queued: list[tuple[list[Request], asyncio.Future[list[Entry | Answer]]]] = []

    async def decide(self, requests: list[Request]) -> list[Answer]:
        if self._key is None:
            return [Answer(None, NO_KEY, retry=False) for _ in requests]
        loop = asyncio.get_running_loop()
        started = loop.time()
        decided: asyncio.Future[list[Entry | Answer]] = loop.create_future()
        if not self._queued:
            # Right after the callbacks ready now: the requests that arrived meanwhile (a busy
            # loop queues many) are decided together, one model call; a lone one at once.
            loop.call_soon(self._decide_queued)
        self._queued.append((requests, decided))
        waits = await decided
        decided_at = loop.time()
        self._phases.labels("decided").observe(decided_at - started)
        deadline = decided_at + self._timeout_s
        answers = []
        for wait in waits:
            if isinstance(wait, Answer):
                answers.append(wait)
                continue
            failure = await _acknowledged(wait, deadline)
            if failure is TIMED_OUT:
                answers.append(
                    Answer(
                        None,
                        f"the broker did not acknowledge the decided transaction within "
                        f"{self._timeout_s:g} s: retry it for the same decision",
                    )
                )
            elif failure is None:
                answers.append(Answer(wait.decision))
            else:
                answers.append(Answer(None, failure))
        self._phases.labels("acknowledged").observe(loop.time() - decided_at)
        for answer in answers:
            self._results.labels("decided" if answer.decision else "unavailable").inc()
        return answers

    def _decide_queued(self) -> None:
        queued, self._queued = self._queued, []
        try:
            # Synchronous up to the publish: no other request and no agent batch runs in
            # between, so the state reads, the decisions and the overlay entries are one step.
            waits = self._decide_now([r for requests, _ in queued for r in requests])
        except Exception as exc:
            for _, decided in queued:
                if not decided.done():
                    decided.set_exception(exc)
            return
        start = 0
        for requests, decided in queued:
            # A request whose caller went away is decided and published all the same: a retry
            # finds it.
            if not decided.done():
                decided.set_result(waits[start : start + len(requests)])
            start += len(requests)

    def _decide_now(self, requests: list[Request]) -> list[Entry | Answer]:
        overlay, enricher = self._overlay, self._enricher
        waits: list[Entry | Answer | None] = []
        pending: list[tuple[int, Request, Entry, PendingEvent, bytes]] = []
        now = time.time()
        for index, (transaction, raw, partition) in enumerate(requests):
            facts = facts_from_transaction(transaction)
            card_key = transaction.card_id.encode()
            earlier = overlay.find(partition, card_key, facts.txid_hash)
            if earlier is not None:
                waits.append(earlier)  # a retry while the first is not applied yet
                continue
            merchant_key = transaction.merchant_id.encode()
            seen = enricher.peek(facts, partition, card_key, merchant_key, overlay)
            entry = Entry(partition, card_key, merchant_key, facts)
            if not seen.replayed:
                # The next transactions of this call, and later requests, count it.
                overlay.add(entry)
            event = PendingEvent(
                transaction,
                raw,
                card_key,
                partition,
                -1,  # no offset yet: the stage writes the real one into the scoring log
                int(now * 1000),  # "arrival" is the request's: the budget runs from it
                seen.features,
                seen.merchant_view,
                seen.event_ms,
                now,
                time.time(),
                seen.txid_hash,
                seen.prior_decision,
            )
            waits.append(None)
            own_sums = orjson.dumps(list(window_sums(seen.own_partial, facts)))
            pending.append((index, Request(transaction, raw, partition), entry, event, own_sums))
        try:
            decided, _ = self._decider.decide([p[3] for p in pending])
        except BaseException:
            for _, _, entry, *_ in pending:
                overlay.remove(entry)
            raise
        # The stream emits these decisions without a model call: the calls are counted here.
        self._metrics.count_model_calls(self._decider.last_calls)
        for (index, request, entry, _, own_sums), made in zip(pending, decided, strict=True):
            entry.decision = made.decision
            if made.record is None:
                # The card state holds this transaction's decision: the stream has it already.
                overlay.remove(entry)
                waits[index] = Answer(made.decision)
                continue
            assert self._key is not None
            headers = sealed_headers(
                self._key,
                self._publisher.topic,
                request.partition,
                entry.card_key,
                request.raw,
                Carried(made.decision, made.record, made.log, own_sums),
            )
            # A record not written is never applied: out of the overlay, even when its report
            # comes after the request gave up waiting.
            entry.delivered.add_done_callback(functools.partial(_forget_if_failed, overlay, entry))
            self._publisher.publish(
                entry.card_key, request.raw, request.partition, headers, entry.settle
            )
            waits[index] = entry
        # Every slot is filled above: a request is answered by its own slot, never a neighbour's.
        assert None not in waits
        return cast(list[Entry | Answer], waits)


TIMED_OUT = "\0timed out"  # never a delivery failure's text (those name the error)


async def _acknowledged(entry: Entry, deadline: float) -> str | None:
    """The broker's answer for the entry's record (None: acknowledged), or TIMED_OUT at
    `deadline`. Woken by `Entry.settle` directly; the request's own future, so a request that
    goes away cancels nothing the overlay or other requests rely on."""
    if entry.delivered.done():
        return entry.delivered.result()
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[str | None] = loop.create_future()
    entry.waiters.append(waiter)
    timer = loop.call_later(max(deadline - loop.time(), 0.0), _time_out, waiter)
    try:
        return await waiter
    finally:
        timer.cancel()


def _time_out(waiter: asyncio.Future[str | None]) -> None:
    if not waiter.done():
        waiter.set_result(TIMED_OUT)


def _forget_if_failed(
    overlay: Overlay, entry: Entry, delivered: asyncio.Future[str | None]
) -> None:
    if delivered.result() is not None:
        overlay.remove(entry)
