#!/usr/bin/env python
"""Start-up cost of criteria-nlp, as ratios to a bare spaCy start measured in the same run.

::

    python scripts/bench_startup.py [--repeat 3] [--file corpora/examples/NCT06852573.criteria.txt]
    python scripts/bench_startup.py --ab OTHER_CHECKOUT [--repeat 12]

Each command runs ``--repeat`` times, the commands interleaved (the machine is shared: a slow
moment hits every command alike), under ``/usr/bin/time -v``; the median CPU time (user + system),
wall time and peak RSS are printed, with the ratio to ``python -c "import spacy;
spacy.blank('en')"``. Targets of issue 11: ``--help`` < 0.3 s and no spaCy; one small file at most
1.3x the baseline's CPU and at most 30 MB more peak RSS; the first record of a ``--workers 2`` run
within 1.5x of the one-file run's wall time (``first record`` rows: wall time until the first
output line).

The commands run with Python's bytecode cache on, in a directory of their own, after one untimed
round that writes it (an installed package has its ``.pyc`` files; a checkout run with
``PYTHONDONTWRITEBYTECODE=1`` compiles our ~45 modules' sources in every process, ~0.1 CPU-s);
``--no-bytecode-cache`` runs them in the environment as it is.

``--ab OTHER_CHECKOUT`` compares two checkouts directly, for a change smaller than the noise of
the ratios on a loaded machine: fresh processes, the two interleaved, each timing (process CPU
from its first import) ``criteria_nlp.get_pipeline()`` and then the extraction of ``--file``,
and the whole ``criteria-nlp extract FILE`` process.

The row "without criteria-nlp installed" is the baseline where our package's entry points are
not found: spaCy imports every ``spacy_factories`` entry point at each ``Language()``, so where
criteria-nlp is installed the plain baseline pays for importing what they name (since
``criteria_nlp.factories``: that light module alone, not the components).

``--blank-cost`` times only that: the CPU inside ``spacy.blank("en")`` (after ``import spacy``,
``time.process_time`` in the process) where criteria-nlp is installed and where it is not, in
fresh processes, interleaved.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIME = "/usr/bin/time"
CLEAN_BASELINE = "the same without criteria-nlp installed (its entry points)"


@dataclass
class Measure:
    cpu: float  # user + system seconds
    wall: float  # seconds (to the end, or to the first output line)
    rss_mb: float  # peak resident set size of the process (largest child for pools)


def bytecode_env(tmp: str, cached: bool) -> dict[str, str]:
    """The commands' environment: with ``cached``, Python's bytecode cache on (as for an installed
    package: pip writes the ``.pyc`` files at install) in a directory of its own under ``tmp``; else
    the caller's environment as it is (``PYTHONDONTWRITEBYTECODE=1`` there means every run compiles
    the sources of the modules without a cached ``.pyc``, criteria-nlp's own in a checkout)."""
    if not cached:
        return dict(os.environ)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
    return env


def timed(cmd: list[str], first_line: bool = False, env: dict[str, str] | None = None) -> Measure:
    """Run ``cmd`` under ``/usr/bin/time -v``; with ``first_line`` the wall time is to its first stdout line."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        proc = subprocess.Popen([TIME, "-v", "-o", report.name, *cmd], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env)
        first = None
        for _ in proc.stdout:
            if first is None:
                first = time.perf_counter() - start
                if first_line:
                    break
        proc.stdout.read()  # let it finish
        rc = proc.wait()
        wall = time.perf_counter() - start
        if rc != 0:
            sys.exit(f"bench_startup: {' '.join(cmd)} exited with {rc}")
        text = report.read()
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", text).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", text).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return Measure(user + system, first if first_line and first is not None else wall, rss / 1024)


def spacy_without_us(tmp: str, code: str = "import spacy; spacy.blank('en')") -> list[str]:
    """``python -c CODE`` (by default ``import spacy; spacy.blank('en')``) as it runs where criteria-nlp
    is not installed.

    Every ``Language()`` loads all ``spacy_factories`` entry points, so in an environment with
    criteria-nlp installed the plain baseline imports what ours name too. This one sees the
    interpreter's site-packages through links, without criteria-nlp's metadata and editable finder
    (``-S``: that directory is put on ``sys.path`` by hand; ``-E``: nor a ``PYTHONPATH``, which may
    hold a checkout).
    """
    site = Path(sysconfig.get_paths()["purelib"])
    view = Path(tmp) / "site-packages"
    if not view.exists():
        view.mkdir()
        for entry in site.iterdir():
            if "criteria_nlp" not in entry.name:  # the package, its .dist-info, the editable .pth and finder
                (view / entry.name).symlink_to(entry)
    return [sys.executable, "-E", "-S", "-c", f"import sys; sys.path.append({str(view)!r}); {code}"]


BLANK_CODE = "import time, spacy; t = time.process_time(); spacy.blank('en'); print(time.process_time() - t)"


def blank_cost(repeat: int) -> None:
    """CPU seconds inside ``spacy.blank("en")`` with and without criteria-nlp installed, interleaved."""
    with tempfile.TemporaryDirectory() as tmp:
        commands = {"spacy.blank('en'), criteria-nlp installed": [sys.executable, "-c", BLANK_CODE],
                    "spacy.blank('en'), without criteria-nlp": spacy_without_us(tmp, BLANK_CODE)}
        env = bytecode_env(tmp, cached=True)
        runs: dict[str, list[float]] = {name: [] for name in commands}
        for i in range(repeat + 1):  # the first round writes the .pyc files, untimed
            for name, cmd in commands.items():
                out = subprocess.run(cmd, capture_output=True, text=True, cwd="/", env=env, check=True).stdout
                if i:
                    runs[name].append(float(out.split()[-1]))
    for name, cpu in runs.items():
        print(f"{name:<45} median {statistics.median(cpu):.3f} CPU-s (min {min(cpu):.3f})")
    installed, without = (statistics.median(cpu) for cpu in runs.values())
    print(f"the entry points cost {installed - without:+.3f} CPU-s per spacy.blank() "
          f"({repeat} runs each, interleaved; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


AB_CODE = ("import sys, time; c = time.process_time(); import criteria_nlp; criteria_nlp.get_pipeline(); "
           "b = time.process_time() - c; criteria_nlp.extract(open(sys.argv[1], encoding='utf-8').read()); "
           "print(b, time.process_time() - c)")


def child_cpu(cmd: list[str], env: dict) -> float:
    """CPU seconds (user + system) of ``cmd`` run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/", env=env, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def compare_checkouts(other: Path, file: str, repeat: int) -> None:
    """Pipeline build, build + extract, and ``criteria-nlp extract FILE`` CPU of this checkout and
    ``other``, interleaved."""
    runs: dict[str, list[tuple[float, float, float]]] = {str(other): [], str(ROOT): []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            for root in runs:
                env = {**os.environ, "PYTHONPATH": root}
                out = subprocess.run([sys.executable, "-c", AB_CODE, file], capture_output=True, text=True, cwd="/",
                                     env=env, check=True).stdout.split()
                cli = child_cpu([sys.executable, "-m", "criteria_nlp.cli", "extract", file, "-o",
                                 str(Path(tmp) / "out.json"), "--force"], env)
                runs[root].append((float(out[0]), float(out[1]), cli))
    for root, measures in runs.items():
        build, total, cli = ([m[i] for m in measures] for i in range(3))
        print(f"{root}: get_pipeline() median {statistics.median(build):.3f} s CPU (min {min(build):.3f}); "
              f"+ extract median {statistics.median(total):.3f} (min {min(total):.3f}); "
              f"criteria-nlp extract FILE median {statistics.median(cli):.3f} (min {min(cli):.3f})")
    print(f"({repeat} runs each, interleaved; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--file", default=str(ROOT / "corpora" / "examples" / "NCT06852573.criteria.txt"))
    ap.add_argument("--ab", metavar="OTHER_CHECKOUT", help="compare this checkout with another one directly")
    ap.add_argument("--no-bytecode-cache", action="store_true",
                    help="run as the environment says (PYTHONDONTWRITEBYTECODE) instead of with a warm .pyc cache")
    ap.add_argument("--blank-cost", action="store_true",
                    help="time spacy.blank('en') alone, with and without criteria-nlp installed")
    args = ap.parse_args(argv)
    if args.blank_cost:
        blank_cost(args.repeat)
        return 0
    if args.ab:
        compare_checkouts(Path(args.ab).resolve(), str(Path(args.file).resolve()), args.repeat)
        return 0
    if not Path(TIME).exists():
        print(f"bench_startup: {TIME} not found (Debian package 'time')", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    py = sys.executable
    cli = [py, "-m", "criteria_nlp.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        copies = []
        for i in range(8):  # a --workers 2 run needs several inputs
            copies.append(str(Path(tmp) / f"copy{i}.txt"))
            shutil.copy(args.file, copies[-1])
        baseline = "python -c 'import spacy; spacy.blank(\"en\")' (baseline)"
        commands = {
            baseline: ([py, "-c", "import spacy; spacy.blank('en')"], False),
            CLEAN_BASELINE: (spacy_without_us(tmp), False),
            "criteria-nlp --help": ([*cli, "--help"], False),
            "criteria-nlp extract FILE": ([*cli, "extract", args.file], False),
            "criteria-nlp extract FILE --model none": ([*cli, "extract", "--model", "none", args.file], False),
            "first record, extract FILE --jsonl": ([*cli, "extract", "--jsonl", "-q", args.file], True),
            "first record, extract 8 files --workers 2": (
                [*cli, "extract", "--jsonl", "-q", "--workers", "2", *copies], True),
        }
        runs: dict[str, list[Measure]] = {name: [] for name in commands}
        env = bytecode_env(tmp, cached=not args.no_bytecode_cache)
        if not args.no_bytecode_cache:
            for cmd, first_line in commands.values():  # untimed: writes the .pyc files
                timed(cmd, first_line, env)
        for _ in range(args.repeat):
            for name, (cmd, first_line) in commands.items():
                runs[name].append(timed(cmd, first_line, env))
    base_cpu = statistics.median(m.cpu for m in runs[baseline])
    base_rss = statistics.median(m.rss_mb for m in runs[baseline])
    one_file_wall = statistics.median(m.wall for m in runs["first record, extract FILE --jsonl"])
    print(f"{'command':<62}{'CPU s':>8}{'x base':>8}{'wall s':>8}{'RSS MB':>8}{'+MB':>7}")
    for name, measures in runs.items():
        cpu = statistics.median(m.cpu for m in measures)
        wall = statistics.median(m.wall for m in measures)
        rss = statistics.median(m.rss_mb for m in measures)
        print(f"{name:<62}{cpu:>8.2f}{cpu / base_cpu:>8.2f}{wall:>8.2f}{rss:>8.0f}{rss - base_rss:>+7.0f}")
    clean_cpu = statistics.median(m.cpu for m in runs[CLEAN_BASELINE])
    one_file_cpu = statistics.median(m.cpu for m in runs["criteria-nlp extract FILE"])
    print(f"criteria-nlp extract FILE / spaCy without criteria-nlp installed (CPU): {one_file_cpu / clean_cpu:.2f}x")
    workers_wall = statistics.median(m.wall for m in runs["first record, extract 8 files --workers 2"])
    print(f"first record with --workers 2 / one-file run (wall): {workers_wall / one_file_wall:.2f}x")
    print("bytecode: " + ("as the environment says (PYTHONDONTWRITEBYTECODE="
                          f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r})" if args.no_bytecode_cache
                          else "a warm .pyc cache, as for an installed package"))
    print(f"({args.repeat} runs each, medians; python {sys.version.split()[0]}; load average "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
