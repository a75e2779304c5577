"""Batch extraction: many records through the pipeline, in order, in bounded memory.

:func:`process_records` takes any iterable of :class:`~criteria_nlp.io.records.InputRecord`
(a streaming reader) and yields one :class:`Outcome` per record, in input order:

* records are grouped into batches of ``batch_size`` and each batch goes through
  ``extract_many`` (``nlp.pipe``); if a batch raises, its records are retried one by one so a
  single bad document becomes an error record instead of sinking its neighbours;
* with ``workers > 1`` the batches run in a process pool (``fork`` where available, else
  ``spawn``; override with ``$CRITERIA_NLP_MP_START``); with ``fork`` the pipeline is built once
  in the parent and inherited, with ``spawn`` each worker builds it once; at most
  ``2 * workers`` batches are in flight, so memory stays constant whatever the input size, and
  outcomes are yielded in input order;
* records that a reader already marked as errors pass through as error records;
* with ``timeout`` (seconds per document, via SIGALRM where available) a batch that runs
  longer than that is redone one document at a time, each with that limit, and a document
  that exceeds it becomes an error record ("timed out") -- a pathological input costs at most
  about twice the limit instead of stalling the run.
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from .io.records import InputRecord, error_record
from .io.structured import apply_structured
from .io.validate import count_rules

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

ENV_START_METHOD = "CRITERIA_NLP_MP_START"


class Outcome:
    """The result of one record: the output dict (a result or an error record).

    From a worker process the result arrives as its JSON bytes (``data``, serialised in the
    worker); ``result`` decodes them on first use and ``json_bytes()`` hands them on unchanged.
    """

    __slots__ = ("record", "_result", "data", "rules", "error")

    def __init__(self, record: InputRecord, result: dict[str, Any] | None = None, rules: int = 0,
                 error: str | None = None, data: bytes | None = None):
        if result is None and data is None:
            raise ValueError("an Outcome needs a result or its JSON bytes")
        self.record = record  # text dropped (None) once processed, to keep memory flat
        self._result = result
        self.data = data
        self.rules = rules
        self.error = error

    @property
    def result(self) -> dict[str, Any]:
        if self._result is None:
            from .io.writers import loads

            self._result = loads(self.data)
        return self._result

    def json_bytes(self) -> bytes:
        """The compact JSON of the result (as the worker wrote it, or serialised now)."""
        if self.data is None:
            from .io.writers import dumps

            self.data = dumps(self._result)
        return self.data

    @property
    def ok(self) -> bool:
        return self.error is None


def _describe(exc: BaseException) -> str:
    msg = " ".join(str(exc).split())
    if len(msg) > 300:
        msg = msg[:300] + "..."
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def _finish(record: InputRecord, result: dict[str, Any]) -> tuple[dict[str, Any], int, str | None]:
    try:
        apply_structured(result, record.structured)
    except Exception as exc:  # noqa: BLE001 - a structured-field oddity must not lose the result
        result.setdefault("warnings", []).append(f"structured fields not processed: {_describe(exc)}")
    return result, count_rules(result), None


class ExtractionTimeout(Exception):
    pass


def _alarm(signum, frame):  # noqa: ARG001
    raise ExtractionTimeout()


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _limited(seconds: float | None, fn):
    """``fn()`` interrupted by ExtractionTimeout after ``seconds`` (no limit if None/0 or not possible)."""
    if not seconds or not _can_alarm():
        return fn()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass(frozen=True)
class ExtractOptions:
    """How each record is extracted: the linker model spec, the longest text accepted and the
    length of the parts a longer text is read in."""

    model: str | None = "default"  # see criteria_nlp.learning.model
    max_length: int | None = None  # None: criteria_nlp.pipeline.MAX_TEXT_LENGTH
    part_length: int | None = None  # None: the pipeline's nlp.max_length


def process_batch(records: list[InputRecord], timeout: float | None = None,
                  options: ExtractOptions = ExtractOptions()) -> list[tuple[dict[str, Any], int, str | None]]:
    """Extract one batch (in this process); one ``(result, n_rules, error)`` per record."""
    from .pipeline import extract, extract_many

    out: list[tuple[dict[str, Any], int, str | None] | None] = [None] * len(records)
    ok = [i for i, r in enumerate(records) if r.error is None and isinstance(r.text, str)]
    ok_set = set(ok)
    for i, r in enumerate(records):
        if i not in ok_set:
            msg = r.error or "no text"
            out[i] = (error_record(r, msg), 0, msg)
    results: list[Any] | None
    try:
        results = _limited(timeout, lambda: list(extract_many(
            ((records[i].text, records[i].id, records[i].path) for i in ok), batch_size=max(1, len(ok)),
            linker_model=options.model, max_length=options.max_length, part_length=options.part_length)))
        if len(results) != len(ok):
            results = None
    except Exception:  # noqa: BLE001 - retried one by one below
        results = None
    if results is None:
        results = []
        for i in ok:
            r = records[i]
            try:
                results.append(_limited(timeout, lambda r=r: extract(
                    r.text, doc_id=r.id, path=r.path, model=options.model, max_length=options.max_length,
                    part_length=options.part_length)))
            except ExtractionTimeout:
                results.append(ExtractionTimeout(f"timed out after {timeout:g} s"))
            except Exception as exc:  # noqa: BLE001 - becomes an error record
                results.append(exc)
    for i, res in zip(ok, results):
        r = records[i]
        if isinstance(res, ExtractionTimeout):
            msg = f"extraction {res}"
            out[i] = (error_record(r, msg), 0, msg)
        elif isinstance(res, BaseException):
            msg = f"extraction failed: {_describe(res)}"
            out[i] = (error_record(r, msg), 0, msg)
        else:
            try:
                out[i] = _finish(r, res)
            except Exception as exc:  # noqa: BLE001
                msg = f"extraction failed: {_describe(exc)}"
                out[i] = (error_record(r, msg), 0, msg)
    return out  # type: ignore[return-value]


def process_batch_bytes(records: list[InputRecord], timeout: float | None = None,
                        options: ExtractOptions = ExtractOptions()) -> list[tuple[bytes, int, str | None]]:
    """:func:`process_batch` with each result serialised here (in the worker): bytes cross the
    process boundary instead of pickled dicts, and the parent writes them as they are."""
    from .io.writers import dumps

    out: list[tuple[bytes, int, str | None]] = []
    for rec, (result, n, err) in zip(records, process_batch(records, timeout, options)):
        try:
            out.append((dumps(result), n, err))
        except Exception as exc:  # noqa: BLE001 - e.g. a value no JSON encoder takes
            msg = f"extraction failed: {_describe(exc)}"
            out.append((dumps(error_record(rec, msg)), 0, msg))
    return out


def _watch_parent(parent: int) -> None:
    # A parent killed with SIGKILL cannot shut the pool down: its workers would wait forever.
    import time

    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker(model: str | None = "default") -> None:
    # Ctrl-C is the parent's business; the workers just stop when it shuts the pool down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True, name="parent-watch").start()
    from .pipeline import get_pipeline

    get_pipeline(model)  # built once per worker


def _chunks(records: Iterable[InputRecord], size: int) -> Iterator[list[InputRecord]]:
    it = iter(records)
    while True:
        chunk = list(itertools.islice(it, size))
        if not chunk:
            return
        yield chunk


def start_method() -> str:
    wanted = os.environ.get(ENV_START_METHOD)
    methods = multiprocessing.get_all_start_methods()
    if wanted in methods:
        return wanted
    return "fork" if "fork" in methods else "spawn"


def _light(record: InputRecord) -> InputRecord:
    return InputRecord(record.id, None, record.path, record.structured, record.error, record.line)


def _outcomes(batch: list[InputRecord], results) -> Iterator[Outcome]:
    for rec, (res, n, err) in zip(batch, results):
        if isinstance(res, bytes):
            yield Outcome(_light(rec), None, n, err, data=res)
        else:
            yield Outcome(_light(rec), res, n, err)


# Documents a worker process handles before it is replaced by a fresh fork of the parent: the
# tokenizer cache, the StringStore and the allocator grow with every new study (measured: ~5 MB
# per 10,000 distinct texts per worker), so a registry-size run would creep up; a recycled worker
# starts from the parent's pipeline again (a fork is cheap, but its caches start cold).
RECYCLE_AFTER = 10_000


def process_records(
    records: Iterable[InputRecord],
    *,
    workers: int = 1,
    batch_size: int = 64,
    max_in_flight: int | None = None,
    timeout: float | None = None,
    options: ExtractOptions = ExtractOptions(),
    recycle_after: int | None = RECYCLE_AFTER,
) -> Iterator[Outcome]:
    """One :class:`Outcome` per input record, in input order (see the module docstring).

    With ``workers > 1`` the pool is replaced after about ``recycle_after`` documents per worker
    (None: never), so memory stays level on long runs.
    """
    batch_size = max(1, int(batch_size))
    batches = _chunks(records, batch_size)
    if workers <= 1:
        for batch in batches:
            yield from _outcomes(batch, process_batch(batch, timeout, options))
        return

    from concurrent.futures import ProcessPoolExecutor  # only for a pool: a one-process run does without
    from concurrent.futures.process import BrokenProcessPool

    limit = max_in_flight or 2 * workers
    ctx = multiprocessing.get_context(start_method())
    frozen = False
    if ctx.get_start_method() == "fork":
        # built once here, inherited by every forked worker (and by a rebuilt pool) instead of
        # being built again in each: the first record arrives about as soon as in a one-process run
        import gc

        from .pipeline import get_pipeline

        get_pipeline(options.model)
        # the pipeline's objects out of the collector's reach: a worker's collections would
        # otherwise touch (and so copy) the pages it shares with the parent
        gc.collect()
        gc.freeze()
        frozen = True
    per_pool = max(1, (recycle_after * workers) // batch_size) if recycle_after else None

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                   initargs=(options.model,))

    executor = new_pool()
    retired: list[_RetiredPool] = []  # recycled pools finishing their last batches
    submitted = 0  # batches given to the current pool
    pending: deque[tuple[list[InputRecord], Future]] = deque()
    clean = False
    try:
        exhausted = False
        while True:
            while not exhausted and len(pending) < limit:
                batch = next(batches, None)
                if batch is None:
                    exhausted = True
                    break
                if per_pool is not None and submitted >= per_pool:
                    retired.append(_RetiredPool.of(executor))  # its queued batches still run, then it exits
                    executor = new_pool()
                    submitted = 0
                    retired = [p for p in retired if p.alive()]
                try:
                    fut = executor.submit(process_batch_bytes, batch, timeout, options)
                except BrokenProcessPool:
                    executor = new_pool()
                    fut = executor.submit(process_batch_bytes, batch, timeout, options)
                submitted += 1
                pending.append((batch, fut))
            if not pending:
                break
            batch, fut = pending.popleft()
            try:
                results = fut.result()
            except BrokenProcessPool:
                msg = "extraction failed: a worker process died"
                results = [(error_record(r, msg), 0, msg) for r in batch]
                # Everything still in flight died with it; rebuild the pool for the rest.
                executor.shutdown(wait=False, cancel_futures=True)
                executor = new_pool()
                # (the batch that killed it may be among them: each break fails one batch,
                # so the run always moves on)
                resubmit = [b for b, _ in pending]
                pending.clear()
                for b in resubmit:
                    pending.append((b, executor.submit(process_batch_bytes, b, timeout, options)))
                submitted = len(resubmit)
            except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
                msg = f"extraction failed: {_describe(exc)}"
                results = [(error_record(r, msg), 0, msg) for r in batch]
            yield from _outcomes(batch, results)
        clean = True
    finally:
        for pool in retired:
            if clean:
                pool.join()
            else:
                pool.kill()
        if clean:
            executor.shutdown(wait=True)
        else:
            _kill_executor(executor)
        if frozen:
            import gc

            gc.unfreeze()


@dataclass
class _RetiredPool:
    """A recycled pool told to shut down without waiting. ``shutdown(wait=False)`` makes the executor
    forget its management thread and processes, so they are kept here: the run joins them at its end
    (or kills them after an error), and forgets a pool once its thread has joined its processes."""

    manager: threading.Thread | None
    processes: list

    @classmethod
    def of(cls, executor: "ProcessPoolExecutor") -> "_RetiredPool":
        manager = getattr(executor, "_executor_manager_thread", None)
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False)
        return cls(manager, processes)

    def alive(self) -> bool:
        return (self.manager is not None and self.manager.is_alive()) or any(p.is_alive() for p in self.processes)

    def join(self) -> None:
        if self.manager is not None:
            self.manager.join()
        for p in self.processes:
            p.join()

    def kill(self) -> None:
        _terminate(self.processes)


def _kill_executor(executor: "ProcessPoolExecutor") -> None:
    procs = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    _terminate(procs)


def _terminate(procs: list) -> None:
    for p in procs:
        try:
            p.terminate()
        except Exception:  # noqa: BLE001
            pass
    for p in procs:
        try:
            p.join(timeout=5)
        except Exception:  # noqa: BLE001
            pass
