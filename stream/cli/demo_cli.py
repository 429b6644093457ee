"""`fraudstream demo`: everything once, on a broker of its own (the README's main job)."""

from __future__ import annotations

from stream.settings import get_settings


# A plain command, not a Typer group: it takes no subcommand, so its help shows none.
def demo() -> None:
    """Run the end-to-end demo: simulate, build, stream, monitor and trace, then stop
    everything it started."""
    from stream.demo import run_demo

    run_demo(get_settings())
