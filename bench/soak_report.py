"""The soak's report (bench/soak.py): the server's RSS over the run, every
request kind with its answers, the checks with their verdicts, and the details
of whatever failed (with the server's log lines of each unexpected answer)."""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from load import Server
from soak_checks import DatabaseState, MediaReport, leaked_secrets
from soak_traffic import Tally

RSS_JUDGED_FROM_MINUTES = 3
RSS_ALLOWED_GROWTH_MB = 48.0
RSS_ALLOWED_GROWTH_SHARE = 0.15


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class RssLog:
    """The server process' VmRSS over the run (and with its worker processes)."""

    samples: list[tuple[float, float]] = field(default_factory=list)
    """(seconds since the load started, MB of the server process)."""

    def sample(self, server: Server, elapsed: float, label: str | None, tally: Tally) -> None:
        mb = rss_kb(server.process.pid) / 1024
        self.samples.append((elapsed, mb))
        if label is not None:
            print(
                f"  {label:>9}: server RSS {mb:6.1f} MB "
                f"(with its workers {server.rss_mb():6.1f} MB); "
                f"{tally.requests} requests, {tally.count_of(500)} × 500, "
                f"{sum(tally.unexpected.values())} unexpected",
                flush=True,
            )

    def verdict(self, minutes: float) -> tuple[float | None, float, str]:
        """How much the median RSS of the second half of the run (after a
        minute's warm-up) is above the first half's, and the growth allowed;
        None when the run is too short. Medians, because single 12 MP photos
        lift the RSS by tens of MB for a moment; a leak lifts the whole half."""
        if minutes < RSS_JUDGED_FROM_MINUTES:
            return None, 0.0, f"not judged (under {RSS_JUDGED_FROM_MINUTES} minutes: warm-up)"
        half = 30 + minutes * 30
        first = [mb for t, mb in self.samples if 60 <= t < half]
        second = [mb for t, mb in self.samples if t >= half]
        if not first or not second:
            return None, 0.0, "not judged (too few samples)"
        before, after = statistics.median(first), statistics.median(second)
        limit = max(RSS_ALLOWED_GROWTH_MB, RSS_ALLOWED_GROWTH_SHARE * before)
        text = (
            f"median {before:.1f} MB in minutes 1–{half / 60:g}, {after:.1f} MB after; "
            f"peak {max(mb for _t, mb in self.samples):.1f} MB"
        )
        return after - before, limit, text

    def save(self, path: Path) -> None:
        path.write_text("".join(f"{t:.1f}\t{mb:.1f}\n" for t, mb in self.samples))


def print_requests(tally: Tally) -> None:
    by_kind: dict[str, dict[str, int]] = defaultdict(dict)
    for (kind, outcome), count in tally.counts.items():
        by_kind[kind][str(outcome)] = count
    print("\n| | request kind | sent | answers | unexpected |")
    print("|---|---|---|---|---|")
    for kind in sorted(by_kind, key=lambda kind: (tally.group_of(kind), kind)):
        answers = ", ".join(f"{o} × {n}" for o, n in sorted(by_kind[kind].items()))
        sent, unexpected = sum(by_kind[kind].values()), tally.unexpected.get(kind, 0)
        group = tally.group_of(kind).split(" ", 1)[1]
        print(f"| {group} | {kind} | {sent} | {answers} | {unexpected} |")
    print(f"| | **all** | {tally.requests} | | {sum(tally.unexpected.values())} |")


def log_excerpt(log_text: str, needles: list[str], limit: int = 6) -> list[str]:
    lines = [line for line in log_text.splitlines() if any(n in line for n in needles)]
    return [line[:400] for line in lines[:limit]]


def report(
    args: argparse.Namespace,
    tally: Tally,
    state: DatabaseState,
    media: MediaReport,
    spool: list[str],
    rss: RssLog,
    faults: dict[str, int],
    log_text: str,
    named_secrets: dict[str, str],
) -> bool:
    print_requests(tally)
    print(f"\nhostile inputs tried: {tally.hostile}")
    print(f"re-sent photos answered with the first send's job: {tally.deduplicated}")
    print(f"jobs in the database: {json.dumps(state.jobs_by_status, sort_keys=True)}")
    print(f"flaky provider answered: {json.dumps(faults, sort_keys=True)}")
    leaked = leaked_secrets(log_text, named_secrets)
    growth, limit, rss_text = rss.verdict(args.minutes)
    errors = [
        line for line in log_text.splitlines() if '"level": "error"' in line or "Traceback" in line
    ]
    # An empty log would pass the secret scan by proving nothing.
    scanned = log_text.count('"event": "ingest_finished"')
    checks: list[tuple[str, float, str, bool]] = [
        ("ingests the server's log records (scanned)", scanned, "> 0", scanned > 0),
        ("jobs still pending", state.pending, "0", state.pending == 0),
        ("jobs past pending without finished_at", len(state.unfinished), "0", not state.unfinished),
        (
            "done jobs without a live result row",
            len(state.results_without_row),
            "0",
            not state.results_without_row,
        ),
        (
            "media files no live row names",
            len(media.files_without_row),
            "0",
            not media.files_without_row,
        ),
        (
            "live media rows without their file",
            len(media.rows_without_file),
            "0",
            not media.rows_without_file,
        ),
        ("files left in the media temp dir", len(media.temp_files), "0", not media.temp_files),
        ("files left in the spool dir", len(spool), "0", not spool),
        ("HTTP 500 answers", tally.count_of(500), "0", tally.count_of(500) == 0),
        (
            "answers not documented for their kind",
            sum(tally.unexpected.values()),
            "0",
            not tally.unexpected,
        ),
        ("requests without an answer", tally.unanswered, "0", tally.unanswered == 0),
        ("200s that break SPEC §3.3", tally.bad_answers, "0", tally.bad_answers == 0),
        (f"secrets in the log (of {len(named_secrets)})", len(leaked), "0", not leaked),
    ]
    if growth is not None:
        checks.append(
            ("server RSS growth (medians), MB", round(growth, 1), f"≤ {limit:.0f}", growth <= limit)
        )
    print("\n| check | value | must be | |")
    print("|---|---|---|---|")
    for name, value, must, passed in checks:
        print(f"| {name} | {value:g} | {must} | {'ok' if passed else '**FAIL**'} |")
    shown = rss.samples[:: max(1, len(rss.samples) // 12)] + rss.samples[-1:]
    print(f"\nserver RSS over the run: {', '.join(f'{mb:.0f}' for _t, mb in shown)} MB; {rss_text}")
    print(f"error events in the log: {len(errors)} (not a check by themselves)")
    details: list[tuple[str, list[str]]] = [
        ("unexpected answers", tally.problems),
        ("pending jobs / unfinished", state.unfinished[:10]),
        ("results without a row", state.results_without_row[:10]),
        ("orphan files", media.files_without_row[:10]),
        ("rows without a file", media.rows_without_file[:10]),
        ("media temp files", media.temp_files[:10]),
        ("spool leftovers", spool[:10]),
        ("leaked secrets", leaked),
        ("first error events", [e[:400] for e in errors[:5]]),
    ]
    request_ids = [
        p.split("request_id=")[1].split()[0] for p in tally.problems if "request_id=" in p
    ]
    details.append(
        (
            "log lines of the unexpected answers",
            log_excerpt(log_text, [r for r in request_ids if r != "?"]),
        )
    )
    for title, lines in details:
        if lines:
            print(f"\n{title}:")
            for line in lines:
                print(f"  {line}")
    failed = not all(passed for *_rest, passed in checks)
    print(f"\nsoak {'FAILED' if failed else 'passed'}")
    return failed
