"""The extract command's output rules and exit statuses, through the real CLI (issue 11, CLI footguns)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version

import pytest

from criteria_nlp.cli import main
from criteria_nlp.io.validate import offset_problems

TEXT = "Inclusion Criteria:\n\n- Age >= 18 years\n- Hemoglobin > 9 g/dL\n"
OTHER = "Exclusion Criteria:\n\n- Creatinine > 1.5 mg/dL\n"


def study(nct, criteria):
    return {"protocolSection": {"identificationModule": {"nctId": nct},
                                "eligibilityModule": {"eligibilityCriteria": criteria}}}


def run(capsys, *argv):
    code = main(["extract", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def cli(*argv, stdin: bytes = b"", **kwargs):
    return subprocess.run([sys.executable, "-m", "criteria_nlp.cli", *map(str, argv)], input=stdin,
                          capture_output=True, timeout=300, **kwargs)


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "alpha.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- -o FILE.json


def test_output_json_file_with_one_input_writes_that_file(tmp_path, text_file, capsys):
    target = tmp_path / "out" / "result.json"
    code, out, err = run(capsys, text_file, "-o", target)
    assert code == 0, err
    assert out == "" and target.is_file()
    result = json.loads(target.read_text(encoding="utf-8"))
    assert result["source"]["id"] == "alpha" and offset_problems(result, TEXT) == []
    assert {r["variable"]["name"] for c in result["criteria"] for r in c["rules"]} == {"age", "hemoglobin"}


def test_output_json_file_refuses_two_inputs_before_writing(tmp_path, text_file, capsys):
    other = tmp_path / "beta.txt"
    other.write_text(OTHER, encoding="utf-8")
    target = tmp_path / "result.json"
    code, _, err = run(capsys, text_file, other, "-o", target)
    assert code == 2 and "one record of one input" in err
    assert not target.exists()


def test_output_json_file_refuses_a_second_record_and_writes_nothing(tmp_path, capsys):
    src = tmp_path / "two.jsonl"
    src.write_text("".join(json.dumps(study(n, TEXT)) + "\n" for n in ("NCT1", "NCT2")), encoding="utf-8")
    target = tmp_path / "result.json"
    code, _, err = run(capsys, src, "-o", target)
    assert code == 2 and "more than one record" in err and len(err.strip().splitlines()) == 1
    assert not target.exists()


# --------------------------------------------------------------------------- names in -o DIR


def test_two_text_inputs_with_the_same_stem_fail_before_writing(tmp_path, capsys):
    for folder, text in (("a", TEXT), ("b", OTHER)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run(capsys, tmp_path / "a" / "same.txt", tmp_path / "b" / "same.txt", "-o", out)
    assert code == 2
    assert "same.json" in err and str(tmp_path / "a" / "same.txt") in err and str(tmp_path / "b" / "same.txt") in err
    assert not out.exists()


def test_a_repeated_study_id_gets_its_own_file(tmp_path, capsys):
    src = tmp_path / "dup.jsonl"
    src.write_text(json.dumps(study("NCT1", TEXT)) + "\n" + json.dumps(study("NCT1", OTHER)) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run(capsys, src, "-o", out)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["NCT1-2.json", "NCT1.json"]
    first = json.loads((out / "NCT1.json").read_text(encoding="utf-8"))
    second = json.loads((out / "NCT1-2.json").read_text(encoding="utf-8"))
    assert offset_problems(first, TEXT) == [] and offset_problems(second, OTHER) == []
    assert "1 repeated name(s)" in err


# --------------------------------------------------------------------------- existing outputs


def test_existing_jsonl_is_refused_without_resume_or_force(tmp_path, text_file, capsys):
    target = tmp_path / "out.jsonl"
    target.write_text('{"keep": "me"}\n', encoding="utf-8")
    code, _, err = run(capsys, text_file, "-o", target)
    assert code == 2 and "--resume" in err and "--force" in err
    assert target.read_text(encoding="utf-8") == '{"keep": "me"}\n'
    code, _, err = run(capsys, text_file, "-o", target, "--force")
    assert code == 0, err
    (line,) = target.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["source"]["id"] == "alpha"
    code, _, err = run(capsys, text_file, "-o", target, "--force", "--resume")
    assert code == 2 and "give one of them" in err


def test_existing_json_file_and_result_directory_are_refused(tmp_path, text_file, capsys):
    target = tmp_path / "r.json"
    target.write_text("{}", encoding="utf-8")
    assert run(capsys, text_file, "-o", target)[0] == 2
    assert target.read_text(encoding="utf-8") == "{}"
    out = tmp_path / "dir"
    assert run(capsys, text_file, "-o", out)[0] == 0
    stamp = (out / "alpha.json").stat().st_mtime_ns
    code, _, err = run(capsys, text_file, "-o", out)
    assert code == 2 and "already holds .json results" in err
    assert (out / "alpha.json").stat().st_mtime_ns == stamp
    assert run(capsys, text_file, "-o", out, "--resume")[0] == 0
    assert run(capsys, text_file, "-o", out, "--force")[0] == 0


# --------------------------------------------------------------------------- stdin, version, pipes, extras


def test_registry_json_lines_on_stdin_are_read_as_studies():
    data = "".join(json.dumps(study(n, t)) + "\n" for n, t in (("NCT1", TEXT), ("NCT2", OTHER))).encode()
    proc = cli("extract", "-", "-q", stdin=data)
    assert proc.returncode == 0, proc.stderr.decode()
    results = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r["source"]["id"] for r in results] == ["NCT1", "NCT2"]
    assert offset_problems(results[0], TEXT) == [] and offset_problems(results[1], OTHER) == []


def test_one_registry_json_document_on_stdin_is_read_as_a_study():
    proc = cli("extract", "-", "-q", stdin=json.dumps(study("NCT9", TEXT), indent=2).encode())
    assert proc.returncode == 0, proc.stderr.decode()
    (line,) = proc.stdout.decode().splitlines()
    result = json.loads(line)
    assert result["source"]["id"] == "NCT9" and offset_problems(result, TEXT) == []


def test_version():
    proc = cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.decode().strip() == f"criteria-nlp {version('criteria-nlp')}"


def test_closed_output_pipe_exits_141(tmp_path):
    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps(study(f"NCT{i:08d}", TEXT)) + "\n" for i in range(600)), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "criteria_nlp.cli", "extract", str(src), "-q", "--batch-size", "8"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, like `| head -1`
    _, err = proc.communicate(timeout=300)
    assert json.loads(first)["source"]["id"] == "NCT00000000"
    assert proc.returncode == 141
    assert b"Traceback" not in err


def test_dsn_without_psycopg_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    code, _, err = run(capsys, "--dsn", "postgresql://localhost/aact")
    assert code == 2
    assert "criteria-nlp[postgres]" in err and len(err.strip().splitlines()) == 1
