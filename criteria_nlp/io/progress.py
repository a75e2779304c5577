"""Progress of a batch run: a tqdm bar on a terminal, periodic log lines otherwise."""
from __future__ import annotations

import io
import os
import sys
import time
from typing import IO


def _hms(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}"


class Progress:
    """Counts documents, rules and failures; shows a bar (tty) or logs every ``interval`` s."""

    def __init__(self, total: int | None = None, *, enabled: bool = True, stream: IO[str] | None = None,
                 tty: bool | None = None, interval: float = 10.0, prog: str = "criteria-nlp"):
        self.stream = stream or sys.stderr
        self.total = total
        self.enabled = enabled
        self.interval = interval
        self.prog = prog
        self.docs = 0
        self.rules = 0
        self.failed = 0
        self.start = time.monotonic()
        self._last_log = self.start
        self._pending = 0
        self._last_bar = self.start
        if tty is None:
            try:
                tty = self.stream.isatty()
            except (AttributeError, ValueError):
                tty = False
        self.bar = None
        if enabled and tty:
            from tqdm import tqdm

            try:
                size = os.get_terminal_size(self.stream.fileno())
            except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
                size = os.terminal_size((0, 0))
            # A pseudo-terminal without a size (script, some CI runners) reports 0x0, and tqdm
            # then hides the bar as "below the screen": give it a nominal size.
            sizing = {"dynamic_ncols": True} if size.columns > 0 else {"ncols": 100}
            if size.lines <= 0:
                sizing["nrows"] = 24
            self.bar = tqdm(total=total, unit="doc", file=self.stream, smoothing=0.1, desc=prog,
                            mininterval=0.2, **sizing)

    def update(self, rules: int = 0, failed: bool = False) -> None:
        self.docs += 1
        self.rules += rules
        self.failed += bool(failed)
        if not self.enabled:
            return
        now = time.monotonic()
        if self.bar is not None:
            self._pending += 1
            if now - self._last_bar >= 0.2:
                self._flush_bar(now)
        elif now - self._last_log >= self.interval:
            self._last_log = now
            self.log(self.status_line(now))

    def _flush_bar(self, now: float) -> None:
        self._last_bar = now
        self.bar.set_postfix_str(f"rules={self.rules:,} failed={self.failed:,}", refresh=False)
        self.bar.update(self._pending)
        self._pending = 0

    def rate(self, now: float | None = None) -> float:
        elapsed = (now or time.monotonic()) - self.start
        return self.docs / elapsed if elapsed > 0 else 0.0

    def status_line(self, now: float | None = None) -> str:
        now = now or time.monotonic()
        rate = self.rate(now)
        parts = [f"{self.docs:,} documents"]
        if self.total:
            parts[0] += f"/{self.total:,}"
        if self.failed:
            parts[0] += f" ({self.failed:,} failed)"
        parts.append(f"{self.rules:,} rules")
        parts.append(f"{rate:,.1f} docs/s")
        parts.append(f"elapsed {_hms(now - self.start)}")
        if self.total and rate > 0 and self.docs < self.total:
            parts.append(f"ETA {_hms((self.total - self.docs) / rate)}")
        return ", ".join(parts)

    def log(self, message: str) -> None:
        if self.bar is not None:
            self.bar.write(f"{self.prog}: {message}", file=self.stream)
        else:
            print(f"{self.prog}: {message}", file=self.stream, flush=True)

    def close(self, summary: bool = True) -> None:
        if self.bar is not None:
            self._flush_bar(time.monotonic())
            self.bar.close()
            self.bar = None
        if self.enabled and summary:
            now = time.monotonic()
            line = (f"done: {self.docs:,} documents ({self.failed:,} failed), {self.rules:,} rules "
                    f"in {now - self.start:.1f} s ({self.rate(now):,.1f} docs/s)")
            print(f"{self.prog}: {line}", file=self.stream, flush=True)
