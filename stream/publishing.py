"""Publishing one record and waiting for the broker's acknowledgement (monitor, audit)."""

from __future__ import annotations

from confluent_kafka import KafkaError, Message, Producer


def publish_confirmed(
    producer: Producer, topic: str, key: bytes, value: bytes, timeout_s: float
) -> list[str]:
    """Send one record and flush; the delivery errors, empty when the broker has it.

    Callers commit their input offsets only after an empty answer, so a failure means the
    work is redone after a restart rather than lost.
    """
    errors: list[str] = []

    def delivered(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            errors.append(str(error))

    producer.produce(topic, key=key, value=value, on_delivery=delivered)
    if producer.flush(timeout_s):
        errors.append(f"not delivered within {timeout_s} s")
    return errors
