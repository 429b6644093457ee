"""Per event: the card's state and the merchant's partial, read and written; the feature vector.

State is updated one event at a time (Faust's tables and their changelogs are per record);
only the model call and the sends are batched. A transaction the card state already holds (a
replay after a crash, or a re-drive) leaves both states unchanged, yet both are written again:
the local store can hold an update whose changelog record died with a killed worker, and
re-sending is what brings the changelog (what other workers restore) back in line.

A card's new state is written once its micro-batch is decided, with the decision recorded in
it (`record_decisions`), and the decision is sent only once that state record is delivered
(stream/decision_path/state_first.py). A replay that finds its decision in the state answers
with it.

The states last written are also kept decoded in memory (bounded), so a card or merchant seen
again skips reading and decoding them; the worker empties that cache whenever its partitions
change (recovery rewrites the tables).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from models.features import (
    CardState,
    MerchantState,
    TxFacts,
    apply_to_partial,
    card_step,
    facts_from_transaction,
    feature_vector,
    merchant_view_features,
)
from models.features.card import CardStep
from schemas import Transaction
from stream.decision_path.merchant_view import MerchantView, Watermarks, seen_watermarks
from stream.decision_path.overlay import Overlay
from stream.engine.state_stores import OnStored, PartitionedState

HELD_WRITES = 20_000


class Enrichment(NamedTuple):
    features: tuple[float, ...]  # FEATURE_NAMES order
    merchant_view: Watermarks  # which merchant partials the merchant features summed
    event_ms: int
    replayed: bool  # the card state already held this transaction
    prior_decision: bytes | None  # what the card state recorded for it the first time
    txid_hash: int
    # The merchant's partial of this partition as the features summed it (before this event)
    own_partial: MerchantState
    facts: TxFacts  # the transaction as the feature code reads it


class Enricher:
    def __init__(
        self,
        cards: PartitionedState,
        partials: PartitionedState,
        view: MerchantView,
        cache_entries: int = 200_000,
        committed_offset: Callable[[int], int | None] = lambda partition: None,
    ) -> None:
        self._cards = cards
        # The input partition's committed offset: decisions of transactions below it can no
        # longer be replayed, so card states stop carrying them (CardState.with_decision).
        self._committed_offset = committed_offset
        self._partials = partials
        self._view = view
        self._cache_entries = cache_entries
        self._card_cache: dict[tuple[int, bytes], CardState] = {}
        self._partial_cache: dict[tuple[int, bytes], MerchantState] = {}
        # Card states changed by events not decided yet: written by record_decisions.
        self._unwritten: dict[tuple[int, bytes], CardState] = {}

    def enrich(self, transaction: Transaction, partition: int, offset: int) -> Enrichment:
        facts = facts_from_transaction(transaction)
        card_key = transaction.card_id.encode()
        card_slot = (partition, card_key)
        card = card_step(self._card_state(card_slot), facts, offset)
        self._unwritten[card_slot] = card.state
        self._card_cache[card_slot] = card.state

        merchant_key = transaction.merchant_id.encode()
        merchant_slot = (partition, merchant_key)
        own = self._partial(merchant_slot)
        others = self._view.others(merchant_key, partition)
        # The card state knows the offset that first applied a replayed transaction: the
        # partial's watermark then says it already holds it.
        updated = apply_to_partial(own, facts, partition, card.origin_offset) or own
        self._partials.set(partition, merchant_key, updated.encode())
        self._partial_cache[merchant_slot] = updated
        self._view.put_local(merchant_key, partition, updated)
        return _enrichment(facts, card, partition, own, own, others)

    def peek(
        self,
        facts: TxFacts,
        partition: int,
        card_key: bytes,
        merchant_key: bytes,
        overlay: Overlay,
    ) -> Enrichment:
        """What `enrich` would compute for this transaction now, writing nothing: the tables'
        states (the same lookups), plus the overlay's transactions of the card and merchant
        (decided online, not applied yet), applied in order on copies. `replayed` and
        `prior_decision` say whether the card state already holds the transaction."""
        state = self._card_state((partition, card_key))
        for earlier in overlay.card_facts(partition, card_key):
            state = card_step(state, earlier, -1).state
        card = card_step(state, facts, -1)
        base = self._partial((partition, merchant_key))
        own = base
        # Only this copy sees these offsets: above the partial's watermark, so each applies.
        provisional = base.watermark(partition)
        for earlier in overlay.merchant_facts(partition, merchant_key):
            provisional += 1
            own = apply_to_partial(own, earlier, partition, provisional) or own
        others = self._view.others(merchant_key, partition)
        # The own partition's watermark is the one before the overlay (its records' offsets are
        # not known yet): the stage puts in the one it sums when it applies the record.
        return _enrichment(facts, card, partition, own, base, others)

    def _card_state(self, slot: tuple[int, bytes]) -> CardState:
        state = self._unwritten.get(slot)
        if state is None:
            state = self._card_cache.get(slot)
        if state is None:
            blob = self._cards.get(*slot)
            state = CardState.decode(blob) if blob is not None else CardState.empty()
        return state

    def _partial(self, slot: tuple[int, bytes]) -> MerchantState:
        own = self._partial_cache.get(slot)
        if own is None:
            blob = self._partials.get(*slot)
            own = MerchantState.decode(blob) if blob is not None else MerchantState.empty()
        return own

    def record_decisions(
        self,
        decided: Iterable[tuple[int, bytes, int, bytes | None]],
        on_stored: OnStored = None,
    ) -> int:
        """(partition, card key, txid digest, decision record or None) in batch order: record
        each new decision in its card's state, then write every card state changed since the
        last call (once per card). Returns how many states were written; `on_stored()` is
        called once per state stored (see stream/decision_path/state_first.py)."""
        unwritten = self._unwritten
        committed: dict[int, int | None] = {}
        for partition, card_key, txid_hash, record in decided:
            if record is None:
                continue
            slot = (partition, card_key)
            state = unwritten.get(slot)
            if state is not None:
                if partition not in committed:
                    committed[partition] = self._committed_offset(partition)
                state = state.with_decision(txid_hash, record, committed[partition])
                unwritten[slot] = state
                self._card_cache[slot] = state
        self._unwritten = {}
        for (partition, card_key), state in unwritten.items():
            self._cards.set(partition, card_key, state.encode(), on_stored)
        return len(unwritten)

    def write_pending(self) -> None:
        """Once per micro-batch: bound the memory held (the tables write to their local
        stores at each commit, or sooner past this many writes)."""
        self._cards.write_pending(at_least=HELD_WRITES)
        self._partials.write_pending(at_least=HELD_WRITES)
        if len(self._card_cache) + len(self._partial_cache) > self._cache_entries:
            self.forget()

    def forget(self) -> None:
        """Drop what is held in memory: the tables' partitions changed (a rebalance, a
        recovery), so only the local stores may be read from now on. States of events not
        decided yet stay until their batch is (record_decisions)."""
        self._cards.write_pending()
        self._partials.write_pending()
        self._card_cache = {}
        self._partial_cache = {}


def _enrichment(
    facts: TxFacts,
    card: CardStep,
    partition: int,
    own: MerchantState,
    watermarked: MerchantState,
    others: list[tuple[int, MerchantState]],
) -> Enrichment:
    """The features from the card's step and the merchant's partials (`own` for this
    partition, summed with `others`); the view names `watermarked`'s watermark for its own."""
    merchant = merchant_view_features([own, *(state for _, state in others)], facts)
    return Enrichment(
        feature_vector(facts, card.features, merchant),
        seen_watermarks((partition, watermarked), others),
        facts.event_ms,
        card.duplicate,
        card.state.decision_for(facts.txid_hash) if card.duplicate else None,
        facts.txid_hash,
        own,
        facts,
    )
