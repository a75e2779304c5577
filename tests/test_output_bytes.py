"""Output serialisation (orjson, json fallback), bytes from workers, recycled worker pools."""
from __future__ import annotations

import json
import multiprocessing

from criteria_nlp.batch import Outcome, process_records
from criteria_nlp.io.records import InputRecord
from criteria_nlp.io.writers import dumps, loads

TEXTS = [
    "Inclusion Criteria:\n- Hemoglobin >= 9 g/dL\n- Age 18-70 years\n",
    "Exclusion Criteria:\n- Creatinine > 1.5 x ULN within 4 weeks prior to enrollment\n",
    "Platelets at least 100,000/mm3; ANC ≥ 1.5 x 10^9/L",
    "No rules here at all.",
]


def test_dumps_is_compact_json_of_the_same_value():
    value = {"a": [1.5, {"b": None, "c": []}], "d": "≥ é \" \\ \n", "e": 100000.0, "f": 0.00001, "g": True}
    data = dumps(value)
    assert json.loads(data) == value and loads(data) == value
    assert b"\n" not in data and b", " not in data[:20]
    # indented output is the json module's layout
    assert dumps({"a": [1, {"b": "≥"}], "c": {}}, indent=2) == json.dumps(
        {"a": [1, {"b": "≥"}], "c": {}}, ensure_ascii=False, indent=2).encode("utf-8")


def test_lone_surrogates_fall_back_to_escapes():
    value = {"text": "bad \udc80 char", "n": 1}
    data = dumps(value)
    assert data == b'{"text":"bad \\udc80 char","n":1}'
    assert loads(data) == value
    assert Outcome(InputRecord("x", None, None), None, 0, None, data=data).result == value


def test_outcome_from_bytes_or_dict():
    result = {"schema_version": "1.1", "source": {"id": "x", "path": None}, "criteria": []}
    from_dict = Outcome(InputRecord("x", None, None), result)
    from_bytes = Outcome(InputRecord("x", None, None), None, data=dumps(result))
    assert from_dict.json_bytes() == from_bytes.json_bytes() == dumps(result)
    assert from_bytes.result == result and from_bytes.ok


def _records(n: int) -> list[InputRecord]:
    return [InputRecord(f"doc{i}", TEXTS[i % len(TEXTS)], None) for i in range(n)]


def test_workers_send_bytes_and_recycled_pools_give_the_same_results():
    before = set(multiprocessing.active_children())  # another test's processes may still be exiting
    one = [o.result for o in process_records(_records(24), workers=1, batch_size=2)]
    outs = list(process_records(_records(24), workers=2, batch_size=2, recycle_after=2))  # a new pool every 2 batches
    assert [o.record.id for o in outs] == [f"doc{i}" for i in range(24)]
    assert all(o.data is not None for o in outs)  # serialised in the workers
    assert [o.result for o in outs] == one
    assert sum(o.rules for o in outs) > 12
    assert not set(multiprocessing.active_children()) - before  # every pool, retired ones included, has exited


def test_compare_output_matches_by_id(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "compare_output", Path(__file__).resolve().parents[1] / "scripts" / "compare_output.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    a = [{"source": {"id": "A"}, "criteria": [{"v": 1.5}]}, {"source": {"id": "B"}, "criteria": []}]
    before, after = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    before.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in a))
    after.write_bytes(b"".join(dumps(r) + b"\n" for r in reversed(a)))  # other order, compact
    assert mod.main([str(before), str(after)]) == 0
    assert mod.main([str(before), str(after), "--bytes"]) == 1  # same values, other bytes
    a[0]["criteria"][0]["v"] = 2.5
    after.write_bytes(b"".join(dumps(r) + b"\n" for r in a))
    assert mod.main([str(before), str(after)]) == 1
    assert "$.criteria[0].v: 1.5 != 2.5" in capsys.readouterr().out
