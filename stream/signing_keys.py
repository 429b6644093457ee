"""Which package signing key a command may use.

The built-in development key is public (it is in this repository), so a package signed with it
proves nothing: anyone could have built it, and loading a package runs its pickled code. Commands
that sign or verify packages for real use refuse it unless the settings say this is a demo or a
test; the demo and the chaos run sign with a key of their own instead.
"""

from __future__ import annotations

import secrets

from stream.settings import Settings


class DevSigningKeyRefused(Exception):
    """The development signing key was configured without the explicit allowance."""


def package_signing_key(settings: Settings) -> bytes:
    """The configured key; raises DevSigningKeyRefused for the unacknowledged development key."""
    if settings.uses_dev_signing_key and not settings.allow_dev_signing_key:
        raise DevSigningKeyRefused(
            "FRAUD_SIGNING_KEY is not set: the built-in development key is public and would let "
            "anyone sign a package this process then loads. Set FRAUD_SIGNING_KEY to your "
            "registry's secret key, or FRAUD_ALLOW_DEV_SIGNING_KEY=true for a demo or a test"
        )
    return settings.signing_key.get_secret_value().encode()


def run_signing_key(settings: Settings) -> str:
    """For a self-contained run (demo, chaos): the configured key, or a fresh one.

    A fresh random key when the development key is configured: what the run builds it signs and
    verifies itself, so it needs no shared key, and the public one is never used.
    """
    if settings.uses_dev_signing_key:
        return secrets.token_urlsafe(32)
    return settings.signing_key.get_secret_value()
