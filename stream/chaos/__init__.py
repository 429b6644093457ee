"""Chaos runs: steady load while workers are SIGKILLed and the broker restarts, then proof.

`fraudstream chaos` starts its own broker, two workers and a paced producer; kills a worker at
random moments (one at a time, the other keeps running), restarts the broker once, lets
everything drain, and then checks from the topics themselves that no input is without an
outcome, that duplicates vanish when deduplicated by decision id, that the table state equals
the offline recomputation, and that the consumer group's lag is back to 0.
"""
