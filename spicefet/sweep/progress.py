"""Progress with an ETA on stderr: one line redrawn in place on a terminal, a line every few
seconds otherwise (logs, CI). The ETA extrapolates the rate of runs executed in this session."""
from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """`total` runs, of which `resumed` were already in the journal."""

    def __init__(self, label: str, total: int, resumed: int = 0, stream: TextIO = sys.stderr,
                 interval_s: float | None = None):
        self.label, self.total, self.resumed, self.stream = label, total, resumed, stream
        self.tty = stream.isatty()
        self.interval_s = interval_s if interval_s is not None else (0.1 if self.tty else 5.0)
        self.executed = self.failed = 0
        self.start = self.last = time.monotonic()

    def update(self, failed: bool) -> None:
        self.executed += 1
        self.failed += failed
        now = time.monotonic()
        if now - self.last >= self.interval_s:
            self.last = now
            self._emit(final=False)

    def line(self) -> str:
        done = self.resumed + self.executed
        elapsed = time.monotonic() - self.start
        todo = self.total - done
        eta = f"ETA {_clock(elapsed / self.executed * todo)}" if self.executed and todo else ""
        resumed = f", {self.resumed} resumed" if self.resumed else ""
        percent = 100 * done / self.total if self.total else 100
        return (f"{self.label}: {done}/{self.total} runs ({percent:.0f}%{resumed}, "
                f"{self.failed} failed) elapsed {_clock(elapsed)} {eta}").rstrip()

    def _emit(self, final: bool) -> None:
        if self.tty:
            self.stream.write("\r\033[K" + self.line() + ("\n" if final else ""))
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        self._emit(final=True)
