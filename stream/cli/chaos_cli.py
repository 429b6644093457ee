"""`fraudstream chaos`: a bounded crash run on a broker of its own, then the proof."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from stream.settings import get_settings

# Preset runs (README, Reliability): what each sets unless given on the command line.
SCENARIOS: dict[str, dict[str, Any]] = {
    # Random kills of either worker and a broker restart.
    "kills": {"events": 20_000, "rate": 400, "kills": 10, "broker_restart": True},
    # One worker of two SIGKILLed once, a third into the load, and restarted at once.
    "kill-one": {
        "events": 25_000,
        "rate": 500,
        "kills": 1,
        "broker_restart": False,
        "disrupt_at": (0.3, 0.35),
    },
    # Both workers restarted one at a time (SIGTERM, start, /ready), a third into the load.
    "rolling": {
        "events": 25_000,
        "rate": 500,
        "kills": 0,
        "broker_restart": False,
        "roll": True,
        "disrupt_at": (0.3, 0.3),
    },
}


# A plain command, not a Typer group: it takes no subcommand, so its help shows none.
def chaos(
    scenario: Annotated[
        str, typer.Option(help=f"Preset: {', '.join(SCENARIOS)}; the options below override it")
    ] = "kills",
    events: Annotated[int | None, typer.Option(help="Events produced during the run")] = None,
    rate: Annotated[int | None, typer.Option(help="Events per second")] = None,
    kills: Annotated[int | None, typer.Option(help="SIGKILLs, one worker at a time")] = None,
    broker_restart: Annotated[
        bool | None, typer.Option(help="Restart the broker once mid-run")
    ] = None,
    engine_fix: Annotated[
        bool, typer.Option(help="Ordered recovery on; off reproduces the engine defect")
    ] = True,
    seed: Annotated[int, typer.Option(help="Kill schedule and data seed")] = 7,
    package: Annotated[Path | None, typer.Option(help="Model package (default: build one)")] = None,
    json_out: Annotated[Path | None, typer.Option(help="Write the figures as JSON here")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the work directory (logs, data)")] = False,
) -> None:
    """Kill workers and restart the broker under load, on a broker of its own; prove no loss."""
    from models.training.quick import build_small_package
    from stream.chaos.harness import ChaosPlan, run_chaos, simulated_load
    from stream.signing_keys import DevSigningKeyRefused, package_signing_key, run_signing_key

    if scenario not in SCENARIOS:
        typer.echo(f"error: unknown scenario {scenario!r} ({', '.join(SCENARIOS)})", err=True)
        raise typer.Exit(2)
    given = {"events": events, "rate": rate, "kills": kills, "broker_restart": broker_restart}
    preset = {**SCENARIOS[scenario], **{k: v for k, v in given.items() if v is not None}}
    settings = get_settings()
    chosen = package or settings.model_package
    try:
        # A package of the user's is verified with the configured key; one built here is
        # signed with a key of this run's own (never the public development key).
        key = (
            run_signing_key(settings) if chosen is None else package_signing_key(settings).decode()
        )
    except DevSigningKeyRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    work = Path(tempfile.mkdtemp(prefix="fraudstream-chaos-"))
    typer.echo(f"work dir {work}")
    try:
        if chosen is None:
            typer.echo("building a small model package")
            chosen = build_small_package(work / "package", key.encode())
        plan = ChaosPlan(**preset, seed=seed, engine_fix=engine_fix)
        load = simulated_load(plan.events, seed)
        result = run_chaos(plan, work, chosen, key, load, say=typer.echo)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    o = result.outcomes
    a = result.availability
    figures = {
        "scenario": scenario,
        "events_per_second": plan.rate,
        "engine_fix": engine_fix,
        "kills": len(result.log.kills),
        "broker_restarts": len(result.log.broker_restarts),
        "events_in": o.inputs,
        "produced_acknowledged": len(result.log.produced),
        "produce_errors": len(result.log.produce_errors),
        "decided_transactions": o.decided,
        "dead_lettered": o.dead_lettered,
        "decision_records": o.decisions,
        "inputs_without_outcome": len(o.without_outcome),
        "duplicate_decisions": o.duplicate_decisions,
        "duplicates_after_dedupe_by_decision_id": o.duplicates_after_dedupe,
        "conflicting_duplicate_decisions": o.conflicting_duplicates,
        "card_states_equal": _share(result.parity.cards, result.parity.card_mismatches),
        "merchant_states_equal": _share(result.parity.merchants, result.parity.merchant_mismatches),
        "committed_lag_after_drain": result.lag,
        "run_seconds": round(result.seconds, 1),
        "decided_per_second": round(result.decided_per_second, 1),
        "arrival_to_decision_ms": {k: round(v, 1) for k, v in result.latency_ms.items()},
        "fallbacks": a.fallbacks,
        "fallback_share": round(a.fallback_share, 4),
        "fallbacks_of_inputs_sent_disrupted": f"{a.fallbacks_disrupted}/{a.decided_disrupted}",
        "rolling_restart": (
            None
            if result.log.roll_ms is None
            else {
                "seconds": round((result.log.roll_ms[1] - result.log.roll_ms[0]) / 1000, 1),
                "fallbacks_of_inputs_sent": f"{a.fallbacks_rolling}/{a.decided_rolling}",
                "produce_to_decision_ms": {k: round(v, 1) for k, v in a.latency_ms_rolling.items()},
            }
        ),
        # Keyed like the progress lines' t= (seconds since the load began).
        "fallbacks_by_second_of_load": {str(s): n for s, n in a.fallbacks_by_second.items()},
        "duplicates_by_second_of_load": {str(s): n for s, n in a.duplicates_by_second.items()},
        "duplicates_by_input_partition": {str(p): n for p, n in a.duplicates_by_partition.items()},
        # % of one core: the headroom the machine had (stream/chaos/cpu.py).
        "cpu_percent_before_disruption": result.cpu_percent_before_disruption,
        "cpu_percent_by_second": {str(s): c for s, c in result.cpu_percent_by_second.items()},
        "restarts": [
            {"worker": r.worker, "how": r.how, "seconds_to_ready": round(r.seconds_to_ready, 1)}
            for r in result.log.restarts
        ],
        "disrupted_seconds": round(a.disrupted_s, 1),
        "decisions_per_second_disrupted": (
            None if a.decisions_per_s_disrupted is None else round(a.decisions_per_s_disrupted, 1)
        ),
        "produce_to_decision_ms_disrupted": {
            k: round(v, 1) for k, v in a.latency_ms_disrupted.items()
        },
        "longest_gap_without_decision_s": {
            str(p): round(gap, 2) for p, gap in sorted(a.longest_gap_s.items())
        },
        "longest_gap_any_partition_s": round(a.longest_gap_any_s, 2),
        "restart_timelines": [timeline.figures() for timeline in result.timelines],
        "passed": result.passed,
    }
    typer.echo(json.dumps(figures, indent=2))
    if json_out is not None:
        json_out.write_text(json.dumps(figures, indent=2) + "\n")
    raise typer.Exit(0 if result.passed else 1)


def _share(total: int, mismatches: list[str]) -> str:
    return f"{total - len(mismatches)}/{total}"
