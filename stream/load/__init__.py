"""Paced traffic into the transactions topic, and what came out of it.

- pacing: the one paced producer loop (`fraudstream load`, the demo, chaos and the benchmark);
- traffic: simulated transactions with run-unique ids, as many as asked for;
- readback: decisions read as they are written, joined to when each input was sent;
- run: one load run and its report (`fraudstream load`).
"""
