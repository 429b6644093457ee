"""`python -m stream.cli ...` is `fraudstream ...` (tests run workers this way)."""

from stream.cli import main

main()
