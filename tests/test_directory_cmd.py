"""`baton directory check` and `baton directory sync`: exit codes, messages naming keys, the atomic write."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import pytest

from cli import directory_cmd
from cli.main import main
from domain.directory import load_directory_text

EXAMPLE = Path(__file__).parent.parent / "examples" / "directory.yaml"
TOKEN = "pat-na1-secret-do-not-print"

SMALL = """\
# hand-written
people:
  - {id: maria, name: Maria Lopez, email: maria.lopez@example.com, timezone: America/New_York}
  - {id: rita, name: Rita Osei, email: rita@example.com}
sales_teams:
  - {name: na, manager: rita, vp: rita, aes: [maria]}
revops: rita
"""


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["directory", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(autouse=True)
def no_directory_env(monkeypatch):
    monkeypatch.delenv("BATON_DIRECTORY", raising=False)
    for name in ("BATON_HUBSPOT_TOKEN", "BATON_SALESFORCE_INSTANCE_URL", "BATON_SALESFORCE_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_check_the_example(capsys):
    code, out, err = run(capsys, "check", str(EXAMPLE))
    assert code == 0
    assert out == f"{EXAMPLE}: valid directory: 12 people, 1 sales teams, 3 CS teams, 1 partner, fallback rita\n"
    assert err == ""


def test_check_reads_baton_directory_and_needs_a_file(capsys, monkeypatch, tmp_path):
    code, _, err = run(capsys, "check")
    assert code == 2 and err == "baton: no directory file: give one or set BATON_DIRECTORY\n"
    monkeypatch.setenv("BATON_DIRECTORY", str(tmp_path / "absent.yaml"))
    code, _, err = run(capsys, "check")
    assert code == 2 and "absent.yaml: no such file" in err
    monkeypatch.setenv("BATON_DIRECTORY", str(EXAMPLE))
    assert run(capsys, "check")[0] == 0


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("people:\n  - {id: a, name: A, email: a@x.io, timezone: Mars/Olympus}\nrevops: a\n", "people.0.timezone"),
        ("people:\n  - {id: a, name: A, email: a@x.io, manager: ghost}\nrevops: a\n", "a.manager -> ghost"),
        ("people:\n  - {id: a, name: A, email: a@x.io, shoe_size: 9}\nrevops: a\n", "people.0.shoe_size"),
        ("people: [\n", "not YAML"),
        ("- a\n- b\n", "top level must be a mapping"),
    ],
)
def test_check_names_each_bad_key_and_exits_2(capsys, tmp_path, text, named):
    path = tmp_path / "directory.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "check", str(path))
    assert code == 2 and out == ""
    assert named in err and "Traceback" not in err


def test_check_warns_but_passes(capsys, tmp_path):
    path = tmp_path / "directory.yaml"
    path.write_text(SMALL + "cs_teams:\n  - {name: mm, approaches: [structured], lead: rita, manager: rita}\n")
    code, _, err = run(capsys, "check", str(path))
    assert code == 0
    assert "warning: cs_teams.mm.csms: no CSM seat" in err


OWNERS = {
    "results": [
        {"id": "61234567", "email": "Maria.Lopez@example.com", "firstName": "Maria", "lastName": "Lopez",
         "userId": 1, "archived": False},
        {"id": "61234569", "email": "jo.new@example.com", "firstName": "Jo", "lastName": "New",
         "userId": 2, "archived": False},
    ]
}  # fmt: skip


def hubspot(monkeypatch, status: int = 200, body: dict | None = None) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params["archived"] == "true":
            return httpx.Response(status, json={"results": []})
        return httpx.Response(status, json=OWNERS if body is None else body)

    monkeypatch.setenv("BATON_HUBSPOT_TOKEN", TOKEN)
    monkeypatch.setattr(directory_cmd, "make_http", lambda: httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    return seen


def test_sync_prints_the_merged_directory_without_write(capsys, monkeypatch, tmp_path):
    path = tmp_path / "directory.yaml"
    path.write_text(SMALL)
    seen = hubspot(monkeypatch)
    code, out, err = run(capsys, "sync", "--crm", "hubspot", "--directory", str(path))
    assert code == 0 and seen
    merged = load_directory_text(out)
    assert merged.by_crm_owner("hubspot", "61234567").id == "maria"
    assert merged.person("jo.new").name == "Jo New"
    assert "1 added, 1 linked" in err and "added: jo.new: hubspot user 61234569 (Jo New)" in err
    assert path.read_text() == SMALL  # untouched
    assert TOKEN not in out + err


def test_sync_write_replaces_the_file_atomically_keeping_its_mode(capsys, monkeypatch, tmp_path):
    path = tmp_path / "directory.yaml"
    path.write_text(SMALL)
    os.chmod(path, 0o600)
    before = path.stat().st_ino
    hubspot(monkeypatch)
    code, out, err = run(capsys, "sync", "--crm", "hubspot", "--directory", str(path), "--write")
    assert code == 0 and out == "" and f"{path}: written" in err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_ino != before  # a new file renamed over the old one, not rewritten in place
    assert load_directory_text(path.read_text()).by_crm_owner("hubspot", "61234569").id == "jo.new"
    assert [p.name for p in tmp_path.iterdir()] == ["directory.yaml"]  # no temporary file left behind
    # Again: nothing to change, the file is not rewritten.
    inode = path.stat().st_ino
    code, _, err = run(capsys, "sync", "--crm", "hubspot", "--directory", str(path), "--write")
    assert code == 0 and "nothing to change" in err and path.stat().st_ino == inode


def test_sync_into_a_new_file_needs_revops_and_writes_nothing(capsys, monkeypatch, tmp_path):
    path = tmp_path / "new.yaml"
    hubspot(monkeypatch)
    code, out, err = run(capsys, "sync", "--crm", "hubspot", "--directory", str(path), "--write")
    assert code == 2 and "revops" in err and "left as it was" in err
    assert not path.exists() and out == ""
    # Without --write the draft is printed to start from.
    code, out, err = run(capsys, "sync", "--crm", "hubspot", "--directory", str(path))
    assert code == 2 and "jo.new" in out


@pytest.mark.parametrize(("status", "says"), [(401, "refused the credentials (401)"), (502, "unavailable (502)")])
def test_sync_crm_failures_exit_2_without_the_token(capsys, monkeypatch, tmp_path, status, says):
    path = tmp_path / "directory.yaml"
    path.write_text(SMALL)
    hubspot(monkeypatch, status=status, body={"message": f"bad token {TOKEN}"})
    code, out, err = run(capsys, "sync", "--crm", "hubspot", "--directory", str(path), "--write")
    assert code == 2 and out == "" and says in err
    assert TOKEN not in err and "Traceback" not in err
    assert path.read_text() == SMALL


def test_sync_unconfigured_crms_name_their_variables(capsys, monkeypatch, tmp_path):
    path = tmp_path / "directory.yaml"
    path.write_text(SMALL)
    code, _, err = run(capsys, "sync", "--crm", "hubspot", "--directory", str(path))
    assert code == 2 and "BATON_HUBSPOT_TOKEN is not set" in err
    monkeypatch.setenv("BATON_SALESFORCE_TOKEN", TOKEN)
    code, _, err = run(capsys, "sync", "--crm", "salesforce", "--directory", str(path))
    assert code == 2 and "BATON_SALESFORCE_INSTANCE_URL is unset" in err and TOKEN not in err


def test_sync_refuses_a_broken_directory_before_calling_the_crm(capsys, monkeypatch, tmp_path):
    path = tmp_path / "directory.yaml"
    path.write_text("people:\n  - {id: a, name: A, email: nope}\nrevops: a\n")
    seen = hubspot(monkeypatch)
    code, _, err = run(capsys, "sync", "--crm", "hubspot", "--directory", str(path))
    assert code == 2 and "people.0.email" in err and not seen
