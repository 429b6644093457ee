"""Record contracts: pydantic models of every record on every topic.

"schema" always means a record contract here; "model" always means an ML model.
"""
