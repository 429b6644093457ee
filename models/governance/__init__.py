"""Who may change which model is live: roles from a policy file, per-actor signed requests, and
the hash-chained, sealed change log every change is appended to."""

from models.governance.errors import GovernanceError, NotPermitted, RequestInvalid

__all__ = ["GovernanceError", "NotPermitted", "RequestInvalid"]
