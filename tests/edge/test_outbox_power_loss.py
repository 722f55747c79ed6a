"""The outbox survives power cuts: a writer process is SIGKILLed at random moments, many times.

A writer subprocess records presses through a real `PressRecorder` into a real `Outbox`,
follows half of them with a follow-up, and prints each committed row, and each removal (as
acks would make), right after the commit. After every kill the test reopens the file as a
rebooted kiosk would and compares it with what the writer reported. A kill can land
between a commit and its print, so the checks allow exactly that much doubt and no more:

- an append committed but not printed: at most one extra row, a press with the next
  sequence or a follow-up, last in the sending order;
- a removal started (announced before it runs) but not confirmed: all of its rows are
  present or none is, never some;
- a follow-up held (as a window holds it) and then committed is either still held or in
  the outbox, never both.
"""

import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path

from edge.outbox import Outbox, OutboxRow
from protocol.messages import FollowUp, PressEvent, decode_kiosk_message

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = 20240601
ROUNDS = 30
MAX_KILL_DELAY_S = 0.3
DEVICE_ID = "k-power"

# Run with `python -c WRITER <outbox path> <seed>` from the repository root; it imports, then
# waits for a line on stdin before it opens the outbox, so the next writer can start up while
# the test checks the last one. Every line is flushed as soon as the commit it reports has
# returned; "removing" is printed *before* the removal runs, so a kill inside `remove` leaves
# a known set of rows in doubt.
WRITER = f"""
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from edge.outbox import Outbox
from edge.recorder import Press, PressRecorder
from protocol.ids import uuid7
from protocol.messages import BUTTONS, FollowUp

rng = random.Random(int(sys.argv[2]))
if sys.stdin.readline() != "go\\n":  # imports done ahead; open the outbox only when told
    sys.exit(0)
outbox = Outbox(Path(sys.argv[1]))
recorder = PressRecorder(
    device_id={DEVICE_ID!r},
    location_id="loc",
    response_interval_s=5.0,
    outbox=outbox,
    on_recorded=lambda event: None,
)
waiting = [row.message_id for row in outbox.pending(after_position=0, limit=10**9)]
print("ready", outbox.last_sequence(), flush=True)
give_up = time.monotonic() + 20  # orphaned (the test died): stop writing
while time.monotonic() < give_up:
    press = Press(rng.choice(BUTTONS), time.monotonic(), datetime.now(UTC))
    event = recorder.record(press)
    print("appended", event.seq, event.event_id, flush=True)
    waiting.append(event.event_id)
    if rng.random() < 0.5:
        followup = FollowUp(
            followup_id=str(uuid7()),
            event_id=event.event_id,
            device_id=event.device_id,
            location_id=event.location_id,
            survey_id="security",
            survey_version=1,
            question="negative",
            option=rng.choice(["queue", None]),
            answered_at=datetime.now(UTC),
        )
        outbox.hold_followup(followup.model_copy(update={{"option": None}}))
        outbox.append_followup(followup)
        print("followup", followup.followup_id, flush=True)
        waiting.append(followup.followup_id)
    if len(waiting) > 3 and rng.random() < 0.25:
        older = waiting[:-2]
        acked = rng.sample(older, min(len(older), rng.randint(1, 6)))
        print("removing", *acked, flush=True)
        removed = outbox.remove(acked)
        print("removed", removed, flush=True)
        waiting = [event_id for event_id in waiting if event_id not in acked]
"""


@dataclass
class Ledger:
    """What the writers reported (or the disk proved) across every round so far."""

    present: dict[int, str] = field(default_factory=dict)  # seq -> event_id, not removed
    followups: set[str] = field(default_factory=set)  # followup ids, not removed
    order: dict[str, int] = field(default_factory=dict)  # message id -> place appended
    held: set[str] = field(default_factory=set)  # follow-ups held, never committed (killed)
    removed: set[str] = field(default_factory=set)
    seen_seqs: set[int] = field(default_factory=set)
    last_seq: int = 0
    appended: int = 0
    unreported_appends: int = 0
    removals_in_doubt: int = 0


@dataclass
class RoundReport:
    """One writer's parsed output: its start, its appends, its removals."""

    ready_seq: int
    appended: list[tuple[int, str]] = field(default_factory=list)  # (seq, id); seq 0: follow-up
    removed: list[str] = field(default_factory=list)
    in_doubt: list[str] = field(default_factory=list)  # announced, not confirmed


def spawn_writer(path: Path, seed: int, stderr_path: Path) -> subprocess.Popen[str]:
    """A writer that has started importing; it touches the outbox only once `go` is called."""
    with stderr_path.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(seed)],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )


def stop(writer: subprocess.Popen[str]) -> None:
    if writer.poll() is None:
        writer.kill()
        writer.wait()
    for stream in (writer.stdin, writer.stdout):
        if stream is not None:
            stream.close()


def run_until_killed(writer: subprocess.Popen[str], delay_s: float, stderr_path: Path) -> list[str]:
    """Let a spawned writer open the outbox, kill it `delay_s` after it is ready; its lines."""
    assert writer.stdin is not None
    assert writer.stdout is not None
    watchdog = threading.Timer(30, writer.kill)  # a hung writer fails the test, not the suite
    watchdog.start()
    try:
        with suppress(BrokenPipeError):  # died already: its stderr says why, below
            writer.stdin.write("go\n")
            writer.stdin.flush()
        lines = [writer.stdout.readline()]
        assert lines[0].startswith("ready "), f"writer did not start:\n{stderr_path.read_text()}"
        reader = threading.Thread(target=lambda: lines.extend(writer.stdout or ()))
        reader.start()
        time.sleep(delay_s)
        writer.send_signal(signal.SIGKILL)  # the power cut
        writer.wait(10)
        reader.join(10)
    finally:
        watchdog.cancel()
        stop(writer)
    assert writer.returncode == -signal.SIGKILL, (
        f"writer ended by itself ({writer.returncode}):\n{stderr_path.read_text()}"
    )
    return lines


def parse(lines: list[str]) -> RoundReport:
    """A line cut short by the kill (no newline) was never fully printed: ignore it."""
    (_, ready_seq), *records = [line.split() for line in lines if line.endswith("\n")]
    report = RoundReport(int(ready_seq))
    for record in records:
        match record:
            case ["appended", seq, event_id]:
                report.appended.append((int(seq), event_id))
            case ["followup", followup_id]:
                report.appended.append((0, followup_id))
            case ["removing", *event_ids]:
                assert not report.in_doubt, f"removal {report.in_doubt} never confirmed"
                report.in_doubt = event_ids
            case ["removed", count]:
                assert int(count) == len(report.in_doubt), (
                    f"remove({report.in_doubt}) removed {count} of {len(report.in_doubt)} rows"
                )
                report.removed += report.in_doubt
                report.in_doubt = []
            case _:
                raise AssertionError(f"unexpected writer output: {record}")
    return report


def apply_report(ledger: Ledger, report: RoundReport) -> None:
    """Fold a writer's reports into the ledger, checking its numbering on the way."""
    assert report.ready_seq == ledger.last_seq, "the writer did not start from last_sequence"
    for seq, message_id in report.appended:
        ledger.order[message_id] = len(ledger.order)
        ledger.appended += 1
        if not seq:
            ledger.followups.add(message_id)
            continue
        assert seq == ledger.last_seq + 1, f"seq {seq} after {ledger.last_seq}"
        assert seq not in ledger.seen_seqs, f"seq {seq} reused"
        ledger.present[seq] = message_id
        ledger.seen_seqs.add(seq)
        ledger.last_seq = seq
    gone = set(report.removed)
    ledger.present = {seq: i for seq, i in ledger.present.items() if i not in gone}
    ledger.followups -= gone
    ledger.removed |= gone


def read_outbox(path: Path) -> tuple[list[OutboxRow], int, int, set[str]]:
    """Reopen the file as a rebooted kiosk would: (pending rows, last_sequence, depth, the
    ids of the follow-ups held)."""
    with closing(sqlite3.connect(path)) as db:  # the first opener after the cut
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    outbox = Outbox(path)
    try:
        rows = outbox.pending(after_position=0, limit=10**9)
        held = {followup.followup_id for followup in outbox.held_followups()}
        return rows, outbox.last_sequence(), outbox.depth(), held
    finally:
        outbox.close()


def check_outbox(ledger: Ledger, report: RoundReport, path: Path) -> None:
    rows, last_seq, depth, held = read_outbox(path)
    on_disk: dict[int, str] = {}  # press seq -> event id
    followups_on_disk: set[str] = set()
    assert depth == len(rows)
    ids_on_disk = {row.message_id for row in rows}
    assert len(ids_on_disk) == len(rows), "a message id is stored twice"
    for row in rows:
        message = decode_kiosk_message(row.payload)
        assert message.device_id == DEVICE_ID
        if isinstance(message, PressEvent):
            assert (row.kind, message.event_id) == ("press", row.message_id)
            on_disk[message.seq] = row.message_id
        else:
            assert isinstance(message, FollowUp)
            assert (row.kind, message.followup_id) == ("followup", row.message_id)
            followups_on_disk.add(row.message_id)

    kept = [event_id for event_id in report.in_doubt if event_id in ids_on_disk]
    assert kept in ([], report.in_doubt), f"a removal was torn: kept {kept} of {report.in_doubt}"
    if report.in_doubt:
        ledger.removals_in_doubt += 1
        if not kept:  # committed, killed before it could say so
            apply_report(ledger, RoundReport(ledger.last_seq, removed=report.in_doubt))

    lost = {seq: i for seq, i in ledger.present.items() if on_disk.get(seq) != i}
    assert not lost, f"committed events lost or changed: {lost}"
    assert ledger.followups <= followups_on_disk, "committed follow-ups lost"
    assert not held & (ids_on_disk | ledger.removed), "a follow-up both held and committed"
    assert len(held - ledger.held) <= 1, f"more than one new held follow-up: {held}"
    ledger.held = held
    assert not ledger.removed & ids_on_disk, "a removed event came back"
    assert last_seq >= ledger.last_seq, f"last_sequence went back: {last_seq} < {ledger.last_seq}"

    unreported = [(seq, i) for seq, i in on_disk.items() if seq not in ledger.present]
    unreported += [(0, i) for i in sorted(followups_on_disk - ledger.followups)]
    if unreported:  # committed, killed before it could print
        assert len(unreported) == 1, f"rows never reported: {unreported}"
        assert unreported[0][0] in (0, ledger.last_seq + 1), (
            f"a press never reported: {unreported} (last reported seq {ledger.last_seq})"
        )
        ledger.unreported_appends += 1
        apply_report(ledger, RoundReport(ledger.last_seq, appended=unreported))
    assert last_seq == ledger.last_seq, f"last_sequence {last_seq}, rows say {ledger.last_seq}"
    places = [ledger.order[row.message_id] for row in rows]
    assert places == sorted(places), "rows are not in the order they were appended"


def test_outbox_keeps_every_committed_event_across_random_power_cuts(tmp_path: Path) -> None:
    path = tmp_path / "data" / "outbox.sqlite3"
    rng = random.Random(SEED)
    ledger = Ledger()
    seeds = [rng.randrange(2**32) for _ in range(ROUNDS)]
    delays_s = [rng.uniform(0, MAX_KILL_DELAY_S) for _ in range(ROUNDS)]
    writers = [spawn_writer(path, seeds[0], tmp_path / "writer-0.err")]
    try:
        for round_no, delay_s in enumerate(delays_s):
            if round_no + 1 < ROUNDS:  # start the next one's imports now
                stderr_path = tmp_path / f"writer-{round_no + 1}.err"
                writers.append(spawn_writer(path, seeds[round_no + 1], stderr_path))
            err = tmp_path / f"writer-{round_no}.err"
            lines = run_until_killed(writers[round_no], delay_s, err)
            try:
                report = parse(lines)
                apply_report(ledger, report)
                check_outbox(ledger, report, path)
            except AssertionError as exc:
                raise AssertionError(
                    f"round {round_no} (seed {SEED}, kill after {delay_s * 1000:.0f} ms): {exc}"
                ) from exc
    finally:
        for writer in writers:
            stop(writer)

    assert ledger.appended > ROUNDS, "the writers hardly wrote: the kills proved little"
    assert ledger.removed, "the writers never removed anything"
    followups = len(ledger.order) - len(ledger.seen_seqs)
    assert followups > ROUNDS, "the writers hardly wrote follow-ups: the kills proved little"
