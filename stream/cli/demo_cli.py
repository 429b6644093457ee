"""`fraudstream demo`: everything once, on a broker of its own (the README's main job)."""

from __future__ import annotations

import typer

from stream.settings import get_settings

demo_app = typer.Typer(help="Run the end-to-end demo.", invoke_without_command=True)


@demo_app.callback()
def demo() -> None:
    """Simulate, build, stream, monitor and trace, then stop everything it started."""
    from stream.demo import run_demo

    run_demo(get_settings())
