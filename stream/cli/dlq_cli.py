"""`fraudstream dlq list | show | replay`: inspect dead letters and replay chosen ones once."""

from __future__ import annotations

import getpass
import re
import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from stream.settings import get_settings

if TYPE_CHECKING:
    from schemas import DeadLetterReplay
    from stream.dlq import Candidate, Replayed, StoredDeadLetter

dlq_app = typer.Typer(
    help="Inspect dead letters and replay chosen ones to the input topic, never twice.",
    no_args_is_help=True,
)

CategoryOption = Annotated[
    list[str] | None, typer.Option("--category", help="Only this category (repeatable)")
]
SinceOption = Annotated[
    str | None,
    typer.Option(help="Only dead letters written at or after this ISO 8601 time (with offset)"),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _fail(f"--since {text!r} is not an ISO 8601 time", 2) from exc
    if when.utcoffset() is None:
        raise _fail(f"--since {text!r} needs a UTC offset, e.g. {text}+00:00", 2)
    return when


def _letters(since: datetime | None) -> list[StoredDeadLetter]:
    from stream.dlq import read_dead_letters
    from stream.topic_scan import ScanError

    settings = get_settings()
    try:
        letters, unreadable = read_dead_letters(
            settings.kafka_bootstrap, settings.topics.dead_letters, since
        )
    except ScanError as exc:
        raise _fail(str(exc)) from exc
    if unreadable:
        typer.echo(f"({unreadable} records that are not dead letters skipped)", err=True)
    return letters


def _ledger() -> dict[str, DeadLetterReplay]:
    from stream.dlq import read_ledger
    from stream.topic_scan import ScanError, UnknownTopicError

    settings = get_settings()
    try:
        return read_ledger(settings.kafka_bootstrap, settings.topics.dlq_replays)
    except UnknownTopicError:
        return {}  # no ledger topic yet: nothing was ever replayed
    except ScanError as exc:
        # An unread ledger is not an empty one: replaying on it would copy dead letters again.
        raise _fail(f"cannot read the replay ledger: {exc}") from exc


@dlq_app.command("list")
def list_command(
    category: CategoryOption = None,
    since: SinceOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Show the newest N")] = 50,
) -> None:
    """A table of dead letters, newest last: where each came from, why, and its size."""
    from stream.dlq import select

    chosen = select(_letters(_since(since)), category or ())
    ledger = _ledger()
    shown = chosen[-limit:]
    topics = sorted({s.letter.source.topic for s in shown})
    typer.echo(f"{len(chosen)} dead letters" + (f", newest {len(shown)} shown" if shown else ""))
    if topics:
        typer.echo(f"source topic: {', '.join(topics)}")
    rows = [_row(s, s.letter.dead_letter_id in ledger) for s in shown]
    header = (
        "DEAD LETTER ID",
        "SOURCE",
        "CATEGORY",
        "FIELD",
        "DEAD-LETTERED AT",
        "SIZE",
        "REPLAYED",
    )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    typer.echo(_cells(header, widths))
    for stored, row in zip(shown, rows, strict=True):
        typer.echo(_cells(row, widths))
        typer.echo(f"    {_one_line(stored.letter.detail, 110)}")


def _cells(row: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()


def _row(stored: StoredDeadLetter, replayed: bool) -> tuple[str, ...]:
    letter = stored.letter
    return (
        letter.dead_letter_id,
        f"{letter.source.partition}/{letter.source.offset}",
        letter.category.value,
        letter.field or "-",
        letter.dead_lettered_at.isoformat(timespec="seconds"),
        str(stored.size),
        "yes" if replayed else "no",
    )


def _one_line(text: str, width: int) -> str:
    flat = re.sub(r"\s+", " ", text)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@dlq_app.command("show")
def show_command(
    dead_letter_id: Annotated[str, typer.Argument(help="As `dlq list` shows it")],
    since: SinceOption = None,
    hex_dump: Annotated[bool, typer.Option("--hex", help="Show the bytes as a hex dump")] = False,
    max_bytes: Annotated[int, typer.Option(min=16, help="Show at most this many bytes")] = 4096,
) -> None:
    """One dead letter in full: where it came from, why, and its original bytes."""
    from stream.dlq import select

    found = select(_letters(_since(since)), ids=[dead_letter_id])
    if not found:
        raise _fail(f"no dead letter {dead_letter_id} in {get_settings().topics.dead_letters}")
    stored = found[0]
    letter = stored.letter
    replay = _ledger().get(dead_letter_id)
    source = letter.source
    fields = {
        "dead letter id": letter.dead_letter_id,
        "category": letter.category.value,
        "field": letter.field or "-",
        "record type": letter.record_type,
        "source": f"{source.topic}/{source.partition}/{source.offset}",
        "source key": repr(source.key),
        "source timestamp": _ms(source.timestamp_ms),
        "dead-lettered at": letter.dead_lettered_at.isoformat(),
        "dead-lettered by": letter.dead_lettered_by,
        "stored at": f"{get_settings().topics.dead_letters}/{stored.partition}/{stored.offset}",
        "replayed": (
            f"at {replay.replayed_at.isoformat()} by {replay.replayed_by} as "
            f"{replay.replayed_to.topic}/{replay.replayed_to.partition}/{replay.replayed_to.offset}"
            if replay is not None
            else "no"
        ),
        "size": f"{stored.size} bytes",
    }
    for name, value in fields.items():
        typer.echo(f"{name + ':':<18}{value}")
    typer.echo(f"detail:\n  {letter.detail}")
    raw = letter.value
    if raw is None:
        typer.echo("original bytes: none (a null value)")
        return
    shown = raw[:max_bytes]
    cut = f" (first {len(shown)} of {len(raw)})" if len(shown) < len(raw) else ""
    text = None if hex_dump else _printable(shown)
    typer.echo(f"original bytes{cut}, {'as text' if text is not None else 'hex'}:")
    typer.echo(text if text is not None else hexdump(shown))


def _ms(ms: int | None) -> str:
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def _printable(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if all(c.isprintable() or c in "\n\r\t" for c in text) else None


def hexdump(raw: bytes, width: int = 16) -> str:
    """Offset, hex bytes and their printable ASCII, `width` bytes a line."""
    lines = []
    for start in range(0, len(raw), width):
        chunk = raw[start : start + width]
        ascii_part = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{start:08x}  {chunk.hex(' '):<{width * 3 - 1}}  {ascii_part}")
    return "\n".join(lines)


@dlq_app.command("replay")
def replay_command(
    category: CategoryOption = None,
    dead_letter_id: Annotated[
        list[str] | None, typer.Option("--id", help="This dead letter (repeatable)")
    ] = None,
    since: SinceOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would happen")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replay even those the codec still rejects")
    ] = False,
    actor: Annotated[str | None, typer.Option(help="Who replays (default user@host)")] = None,
) -> None:
    """Re-produce the original bytes of chosen dead letters to the input topic, once each.

    Each is first checked with the current codec: one that would fail again is skipped unless
    --force. The replay ledger (a compacted topic) refuses a dead letter replayed before.
    """
    from stream.dlq import Action, DlqError, plan_replay, replay, revalidation_decoder, select

    if bool(category) == bool(dead_letter_id):
        raise _fail("choose dead letters by --category or by --id (one of the two)", 2)
    settings = get_settings()
    chosen = select(_letters(_since(since)), category or (), dead_letter_id or ())
    unknown = set(dead_letter_id or ()) - {s.letter.dead_letter_id for s in chosen}
    if unknown:
        raise _fail(f"no such dead letters: {', '.join(sorted(unknown))}")
    now = datetime.now(UTC)
    plan = plan_replay(chosen, _ledger(), revalidation_decoder(settings), now, force)
    if dry_run:
        for candidate in plan:
            _say(candidate, "would " + candidate.action.value if candidate.replays else None)
        typer.echo(f"dry run: {sum(c.replays for c in plan)} of {len(plan)} would be replayed")
        return
    who = actor or _default_actor()
    try:
        results = replay(
            plan,
            settings.kafka_bootstrap,
            settings.topics.transactions,
            settings.topics.dlq_replays,
            who,
            now,
        )
    except DlqError as exc:
        raise _fail(str(exc)) from exc
    for candidate in plan:
        if not candidate.replays:
            _say(candidate)
    for result in results:
        _say_replayed(result)
    failed = sum(r.copy is None for r in results)
    skipped = sum(c.action is Action.STILL_INVALID for c in plan)
    keyless = sum(c.action is Action.KEY_NOT_KEPT for c in plan)
    typer.echo(
        f"{len(results) - failed} replayed, {failed} failed, {skipped} skipped as still invalid"
        f"{' (--force replays them anyway)' if skipped else ''}, "
        f"{keyless} not replayable (key not kept whole), "
        f"{len(plan) - len(results) - skipped - keyless} already replayed"
    )
    if failed:
        raise typer.Exit(1)


def _say(candidate: Candidate, verb: str | None = None) -> None:
    letter = candidate.stored.letter
    reason = f": {_one_line(candidate.reason, 160)}" if candidate.reason else ""
    what = verb or candidate.action.value
    typer.echo(f"{letter.dead_letter_id}  {letter.category.value}  {what}{reason}")


def _say_replayed(result: Replayed) -> None:
    letter = result.candidate.stored.letter
    if result.copy is None:
        typer.echo(f"{letter.dead_letter_id}  NOT replayed: {result.error}")
        return
    copy = result.copy
    typer.echo(
        f"{letter.dead_letter_id}  {result.candidate.action.value} as "
        f"{copy.topic}/{copy.partition}/{copy.offset}"
    )


def _default_actor() -> str:
    name = f"{getpass.getuser()}@{socket.gethostname()}"
    return re.sub(r"[^A-Za-z0-9._:@/+-]", "_", name)[:128]
