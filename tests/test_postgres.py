"""Round trip through a real PostgreSQL server: read ``ctgov.eligibilities``, upsert results.

The fixture looks for ``initdb``/``pg_ctl``/``postgres`` (PATH, /usr/lib/postgresql/*/bin,
/usr/local/bin), creates a throw-away cluster, starts it on a free local port with its unix
socket in the cluster directory, and stops it afterwards. As root the server runs as the
``postgres`` user (initdb refuses root). Without a server binary the tests are skipped.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from criteria_nlp.cli import main

pytestmark = pytest.mark.postgres
psycopg = pytest.importorskip("psycopg")


def _find_bin_dir() -> Path | None:
    candidates = []
    w = shutil.which("pg_ctl")
    if w:
        candidates.append(Path(os.path.realpath(w)).parent)
        candidates.append(Path(w).parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    candidates.append(Path("/usr/local/bin"))
    for d in candidates:
        if all((d / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
            return d
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(map(_quote, cmd))]


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory):
    bindir = _find_bin_dir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb/pg_ctl/postgres) found; run .ci/install-postgres.sh")
    if os.geteuid() == 0:
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        # root's pytest tmp dirs are not reachable by the postgres user: a short dir of our own
        base = Path(tempfile.mkdtemp(prefix="cnlp-pg-"))
        os.chown(base, pw.pw_uid, pw.pw_gid)
    else:
        base = tmp_path_factory.mktemp("pg")
    data = base / "data"
    port = _free_port()
    env = dict(os.environ, LC_ALL="C", LANG="C")
    try:
        r = subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                            "--auth=trust", "-E", "UTF8", "--no-locale"]),
                           capture_output=True, text=True, env=env, timeout=180)
        if r.returncode != 0:
            pytest.skip(f"initdb failed here: {r.stderr.strip().splitlines()[-1:] or r.returncode}")
        opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
        r = subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"),
                                            "-w", "-t", "60", "-o", opts, "start"]),
                           capture_output=True, text=True, env=env, timeout=120)
        if r.returncode != 0:
            log = (base / "log").read_text(errors="replace") if (base / "log").exists() else r.stderr
            pytest.fail(f"PostgreSQL did not start: {log.strip()[-500:]}")
        dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        for _ in range(50):
            try:
                psycopg.connect(dsn, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                time.sleep(0.2)
        yield {"dsn": dsn, "socket_dsn": f"host={base} port={port} user=postgres dbname=postgres"}
    finally:
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, env=env, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


CRITERIA = {
    "NCT00000001": "Inclusion Criteria:\n\n  - Age >= 18 years\n  - Hemoglobin > 9 g/dL\n",
    "NCT00000002": "Inclusion Criteria:\n  - Platelets >= 100,000/mm3\n\nExclusion Criteria:\n  - Creatinine > 1.5 mg/dL\n",
    "NCT00000003": "Age 18-65 years, BMI 18.5 to 30 kg/m2",
    "NCT00000004": None,  # NULL criteria -> error record
    "NCT00000005": "Null \x00 byte and unicode ≥ 5 mg",
}


@pytest.fixture()
def aact_db(pg_server):
    dsn = pg_server["dsn"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS ctgov CASCADE")
        conn.execute("DROP TABLE IF EXISTS criteria_nlp_rules")
        conn.execute("DROP TABLE IF EXISTS criteria_nlp_rule")
        conn.execute("CREATE SCHEMA ctgov")
        conn.execute("""
            CREATE TABLE ctgov.eligibilities (
                id serial PRIMARY KEY, nct_id varchar, sampling_method varchar, gender varchar,
                gender_based boolean, gender_description varchar, minimum_age varchar, maximum_age varchar,
                healthy_volunteers varchar, population varchar, criteria text,
                adult boolean, child boolean, older_adult boolean)""")
        for nct, crit in CRITERIA.items():
            conn.execute(
                "INSERT INTO ctgov.eligibilities (nct_id, gender, minimum_age, maximum_age, healthy_volunteers, criteria)"
                " VALUES (%s, 'All', '18 Years', 'N/A', 'No', %s)",
                (nct, crit.replace("\x00", "") if crit else crit))
    return dsn


def _rows(dsn):
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT nct_id, result, rules_count, error, updated_at FROM criteria_nlp_rules ORDER BY nct_id").fetchall()


def test_read_database_write_back_idempotent(aact_db, capsys):
    code = main(["extract", "--dsn", aact_db, "--write-db", "-q", "--batch-size", "2"])
    _, err = capsys.readouterr()
    assert code == 1  # the NULL-criteria row is an error record
    assert "NCT00000004" in err and "criteria is NULL" in err and "Traceback" not in err
    first = _rows(aact_db)
    assert [r[0] for r in first] == sorted(CRITERIA)
    for nct, result, rules_count, error, _ in first:
        assert result["source"]["id"] == nct
        if nct == "NCT00000004":
            assert error == "criteria is NULL" and result["error"] == "criteria is NULL" and rules_count == 0
        else:
            assert error is None
            assert rules_count == sum(len(c["rules"]) for c in result["criteria"])
            assert result["structured"]["age"][0]["value"] == 18
            text = CRITERIA[nct].replace("\x00", "")
            for c in result["criteria"]:
                assert text[c["start"]:c["end"]] == c["text"]
    assert sum(r[2] for r in first) > 0

    code = main(["extract", "--dsn", aact_db, "--write-db", "-q"])
    capsys.readouterr()
    assert code == 1
    second = _rows(aact_db)
    assert [r[0] for r in second] == [r[0] for r in first]  # no duplicates
    assert [(r[1], r[2], r[3]) for r in second] == [(r[1], r[2], r[3]) for r in first]
    assert all(b[4] >= a[4] for a, b in zip(first, second))
    _check_rule_table(aact_db, second)


def _check_rule_table(dsn, studies):
    """The flat criteria_nlp_rule table holds each rule of each stored result once, typed."""
    from criteria_nlp import flat

    with psycopg.connect(dsn) as conn:
        cur = conn.execute("SELECT * FROM criteria_nlp_rule ORDER BY source_id, rule_id")
        names = [d.name for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    assert tuple(names) == flat.COLUMN_NAMES
    expected = sorted(((r["source_id"], r["rule_id"]) for _, result, _, _, _ in studies
                       for r in flat.rule_rows(result)))
    assert [(r["source_id"], r["rule_id"]) for r in rows] == expected and expected
    hb = next(r for r in rows if r["source_id"] == "NCT00000001" and r["variable_name"] == "hemoglobin")
    assert (hb["comparator"], hb["value"], hb["unit"], hb["normalized_value"], hb["normalized_unit"]) == (
        ">", 9.0, "g/dL", 90.0, "g/L")
    assert hb["negated"] is False and hb["section"] == "inclusion" and isinstance(hb["conditions"], list)


def test_database_to_jsonl_and_unix_socket(aact_db, pg_server, tmp_path, capsys):
    out = tmp_path / "db.jsonl"
    code = main(["extract", "--dsn", pg_server["socket_dsn"], "-o", str(out), "--limit", "3"])
    _, err = capsys.readouterr()
    assert code == 0, err
    res = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["source"]["id"] for r in res] == ["NCT00000001", "NCT00000002", "NCT00000003"]
    assert "done: 3 documents" in err


def test_files_written_to_database(aact_db, tmp_path, capsys):
    src = tmp_path / "s.jsonl"
    study = {"protocolSection": {"identificationModule": {"nctId": "NCT12345678"},
                                 "eligibilityModule": {"eligibilityCriteria": "Age >= 18 years\n",
                                                       "minimumAge": "18 Years"}}}
    src.write_text(json.dumps(study) + "\n", encoding="utf-8")
    code = main(["extract", str(src), "--dsn", aact_db, "--write-db", "-q"])
    out, _ = capsys.readouterr()
    assert code == 0 and out == ""  # --write-db alone prints nothing on stdout
    assert [r[0] for r in _rows(aact_db)] == ["NCT12345678"]


def test_null_byte_result_is_stored(aact_db):
    from criteria_nlp.io.writers import DbWriter

    w = DbWriter(aact_db, batch_size=10)
    w.write({"schema_version": "1.0", "source": {"id": "NCT0000000X", "path": None},
             "criteria": [{"text": "a\x00b"}]}, None, 0, None)
    w.close()
    assert w.written == 1 and not w.failed
    (row,) = [r for r in _rows(aact_db) if r[0] == "NCT0000000X"]
    assert row[1]["criteria"][0]["text"] == "a\ufffdb"  # same length: offsets stay valid


def test_reader_uses_a_server_side_cursor(aact_db, monkeypatch):
    from criteria_nlp.io import readers

    names = []
    real_cursor = psycopg.Connection.cursor

    def spy(self, *args, **kwargs):
        cur = real_cursor(self, *args, **kwargs)
        names.append((kwargs.get("name"), type(cur).__name__))
        return cur

    monkeypatch.setattr(psycopg.Connection, "cursor", spy)
    recs = list(readers.iter_postgres(aact_db, itersize=2))
    assert [r.id for r in recs] == sorted(CRITERIA)
    assert names == [("criteria_nlp_eligibilities", "ServerCursor")]
