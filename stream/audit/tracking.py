"""The audit's bookkeeping, free of Kafka: inputs awaiting an outcome, and the windows they form.

A window is what the audit read of the input topic during `window_ms` (or up to
`window_max_inputs` inputs): per partition one contiguous offset range. It is settled once
every input in it has an outcome or has been given up as lost, and windows are settled in
reading order, so after window k is published every offset below its range ends is checked and
may be committed. A restarted audit reads again from there and rebuilds the very same state.

An input without an outcome is due `grace_ms` after the audit read it (or after its last
re-drive). The caller re-drives it or, after `max_redrives`, reports it lost. Times are plain
milliseconds passed in by the caller, so all of this is tested without a clock.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from enum import StrEnum

from stream.audit.matching import Coords, DecisionSeen, OutcomeIndex
from stream.redrive import PLAIN, Provenance


@dataclass(frozen=True)
class TrackerConfig:
    input_topic: str
    grace_ms: int
    max_redrives: int
    window_ms: int
    window_max_inputs: int
    max_outcomes: int


class Verdict(StrEnum):
    DECIDED = "decided"
    DEAD_LETTERED = "dead_lettered"
    PENDING = "pending"
    COPY = "redrive_copy"  # a re-drive copy: its original carries the outcome
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class LostEntry:
    partition: int
    offset: int
    transaction_id: str | None
    redrives: int


@dataclass(eq=False)
class Window:
    seq: int
    opened_at_ms: int
    ranges: dict[int, list[int]] = field(default_factory=dict)  # partition → [start, end, last ts]
    reading: bool = True
    published: bool = False
    first_ts: int | None = None
    last_ts: int | None = None
    inputs: int = 0
    copies: int = 0
    decided: int = 0
    dead_lettered: int = 0
    redriven: int = 0
    duplicates: int = 0
    conflicts: int = 0
    lost: list[LostEntry] = field(default_factory=list)
    unresolved: int = 0

    def cover(self, partition: int, offset: int, timestamp_ms: int) -> None:
        span = self.ranges.get(partition)
        if span is None:
            self.ranges[partition] = [offset, offset + 1, timestamp_ms]
        else:
            span[1], span[2] = offset + 1, timestamp_ms
        self.first_ts = timestamp_ms if self.first_ts is None else min(self.first_ts, timestamp_ms)
        self.last_ts = timestamp_ms if self.last_ts is None else max(self.last_ts, timestamp_ms)


class PendingInput:
    __slots__ = ("copies", "due_ms", "offset", "partition", "redrives", "transaction_id", "window")

    def __init__(
        self, partition: int, offset: int, transaction_id: str | None, window: Window, due_ms: int
    ) -> None:
        self.partition = partition
        self.offset = offset
        self.transaction_id = transaction_id
        self.window = window
        self.due_ms = due_ms
        self.redrives = 0
        self.copies: list[Coords] = []

    @property
    def coords(self) -> Coords:
        return self.partition, self.offset


@dataclass
class Totals:
    """Counts over the tracker's life (the metrics); windows carry their own."""

    duplicate_decisions: int = 0
    conflicting_decisions: int = 0
    late_duplicates: int = 0  # repeats of decisions whose inputs' windows were already published


class OutcomeTracker:
    def __init__(self, config: TrackerConfig) -> None:
        self.config = config
        self.outcomes = OutcomeIndex(config.max_outcomes)
        self.totals = Totals()
        self.windows: list[Window] = []  # oldest first; only the last may be reading
        self._seq = 0
        self._pending: dict[Coords, PendingInput] = {}
        self._by_transaction: dict[str, list[PendingInput]] = {}
        self._copies: dict[Coords, PendingInput] = {}  # a re-drive copy → its original
        self._due: list[tuple[int, int, int]] = []  # (due, partition, offset), lazily cleaned

    @property
    def pending(self) -> int:
        return len(self._pending)

    def pending_inputs(self) -> list[PendingInput]:
        return sorted(self._pending.values(), key=lambda p: p.coords)

    # -- inputs ---------------------------------------------------------------------------

    def add_input(
        self,
        partition: int,
        offset: int,
        timestamp_ms: int,
        transaction_id: str | None,
        now_ms: int,
        origin: Provenance = PLAIN,
    ) -> Verdict:
        window = self._reading_window(now_ms)
        window.cover(partition, offset, timestamp_ms)
        target = origin.redrive_of
        if target is not None and target[0] == self.config.input_topic:
            window.copies += 1
            self._add_copy((partition, offset), (target[1], target[2]), origin.redrive_attempt)
            return Verdict.COPY
        window.inputs += 1
        if (partition, offset) in self.outcomes.dead_letters:
            window.dead_lettered += 1
            return Verdict.DEAD_LETTERED
        seen = self.outcomes.decisions.get(transaction_id) if transaction_id else None
        if seen is not None:
            window.decided += 1
            if seen.window is None:
                seen.window = window
            return Verdict.DECIDED
        pending = PendingInput(
            partition, offset, transaction_id, window, now_ms + self.config.grace_ms
        )
        self._pending[pending.coords] = pending
        if transaction_id:
            self._by_transaction.setdefault(transaction_id, []).append(pending)
        heapq.heappush(self._due, (pending.due_ms, partition, offset))
        window.unresolved += 1
        return Verdict.PENDING

    def _add_copy(self, copy: Coords, original: Coords, attempt: int) -> None:
        pending = self._pending.get(original)
        if pending is None:
            return  # its original is settled (or was checked before this audit's start)
        # After a restart the copies tell how often the original was re-driven already.
        pending.redrives = max(pending.redrives, attempt)
        self._link(pending, copy)
        if copy in self.outcomes.dead_letters:
            self._settle(pending, Verdict.DEAD_LETTERED)

    def _link(self, pending: PendingInput, copy: Coords) -> None:
        if copy not in self._copies:
            pending.copies.append(copy)
            self._copies[copy] = pending

    # -- outcomes -------------------------------------------------------------------------

    def add_decision(
        self, transaction_id: str, decision_id: str, timestamp_ms: int
    ) -> DecisionSeen:
        seen = self.outcomes.add_decision(transaction_id, decision_id, timestamp_ms)
        if seen.copies > 1 or seen.decision_id != decision_id:
            self._repeat(seen, decision_id)
            return seen
        waiting = self._by_transaction.get(transaction_id)
        if not waiting:  # the common case: the decision came before the audit read its input
            return seen
        for pending in list(waiting):  # _settle removes from `waiting`
            if seen.window is None:
                seen.window = pending.window
            self._settle(pending, Verdict.DECIDED)
        return seen

    def _repeat(self, seen: DecisionSeen, decision_id: str) -> None:
        conflict = seen.decision_id != decision_id
        window = seen.window if seen.window is not None and not seen.window.published else None
        if conflict:
            self.totals.conflicting_decisions += 1
            if window is not None:
                window.conflicts += 1
        else:
            self.totals.duplicate_decisions += 1
            if window is not None:
                window.duplicates += 1
            elif seen.window is not None:
                self.totals.late_duplicates += 1

    def add_dead_letter(self, coords: Coords, timestamp_ms: int) -> bool:
        """True when the dead letter is new and settled an input awaiting its outcome."""
        if not self.outcomes.add_dead_letter(coords, timestamp_ms):
            return False
        pending = self._pending.get(coords) or self._copies.get(coords)
        if pending is None:
            return False
        self._settle(pending, Verdict.DEAD_LETTERED)
        return True

    def expire_outcomes(self, before_ms: int) -> int:
        return self.outcomes.expire(before_ms)

    # -- the grace period -----------------------------------------------------------------

    def take_due(self, until_ms: int) -> list[PendingInput]:
        """Inputs still without an outcome whose grace ended at or before `until_ms`.

        `until_ms` must be a time up to which every outcome has been read (see the runner):
        an input is never called missing while its outcome may still sit unread in a topic.
        """
        due: list[PendingInput] = []
        while self._due and self._due[0][0] <= until_ms:
            due_ms, partition, offset = heapq.heappop(self._due)
            pending = self._pending.get((partition, offset))
            if pending is not None and pending.due_ms == due_ms:
                due.append(pending)
        return due

    def next_due_ms(self) -> int | None:
        while self._due:
            due_ms, partition, offset = self._due[0]
            pending = self._pending.get((partition, offset))
            if pending is not None and pending.due_ms == due_ms:
                return due_ms
            heapq.heappop(self._due)
        return None

    def may_redrive(self, pending: PendingInput) -> bool:
        return pending.redrives < self.config.max_redrives

    def redriven(self, pending: PendingInput, copy: Coords | None, now_ms: int) -> None:
        """Record a re-drive (`copy`: where the copy landed, when known); the grace restarts."""
        pending.redrives += 1
        if copy is not None:
            self._link(pending, copy)
        pending.due_ms = now_ms + self.config.grace_ms
        heapq.heappush(self._due, (pending.due_ms, pending.partition, pending.offset))

    def postpone(self, pending: PendingInput, now_ms: int) -> None:
        """Try again later (the re-drive itself failed): the grace restarts, no attempt used."""
        pending.due_ms = now_ms + self.config.grace_ms
        heapq.heappush(self._due, (pending.due_ms, pending.partition, pending.offset))

    def lose(self, pending: PendingInput) -> LostEntry:
        entry = LostEntry(
            pending.partition, pending.offset, pending.transaction_id, pending.redrives
        )
        pending.window.lost.append(entry)
        self._settle(pending, Verdict.LOST)
        return entry

    # -- windows --------------------------------------------------------------------------

    def roll(self, now_ms: int) -> None:
        """Stop adding inputs to the reading window once it is old or full enough."""
        if self.windows and self.windows[-1].reading:
            window = self.windows[-1]
            full = window.inputs + window.copies >= self.config.window_max_inputs
            if full or now_ms - window.opened_at_ms >= self.config.window_ms:
                window.reading = False

    def settled_windows(self) -> list[Window]:
        """Windows that are complete, oldest first; they leave the tracker marked published."""
        settled: list[Window] = []
        while self.windows and not self.windows[0].reading and self.windows[0].unresolved == 0:
            window = self.windows.pop(0)
            window.published = True
            settled.append(window)
        return settled

    def _reading_window(self, now_ms: int) -> Window:
        self.roll(now_ms)
        if not self.windows or not self.windows[-1].reading:
            self._seq += 1
            self.windows.append(Window(self._seq, now_ms))
        return self.windows[-1]

    def _settle(self, pending: PendingInput, verdict: Verdict) -> None:
        del self._pending[pending.coords]
        if pending.transaction_id:
            waiting = self._by_transaction[pending.transaction_id]
            waiting.remove(pending)
            if not waiting:
                del self._by_transaction[pending.transaction_id]
        for copy in pending.copies:
            self._copies.pop(copy, None)
        window = pending.window
        window.unresolved -= 1
        if pending.redrives:
            window.redriven += 1
        if verdict is Verdict.DECIDED:
            window.decided += 1
        elif verdict is Verdict.DEAD_LETTERED:
            window.dead_lettered += 1
