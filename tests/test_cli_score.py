"""`baton score`: the JSON a RevOps user gets, and exit 2 naming the bad field."""

import json
from pathlib import Path

import pytest

from cli.main import main

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).parent.parent / "examples" / "worked-example.json"


def run(capsys, *args):
    code = main(["score", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_worked_example(capsys):
    code, out, _ = run(capsys, EXAMPLE)
    result = json.loads(out)
    assert code == 0
    assert result["score"] == 73.5 and result["tier"] == "gaps"
    assert result["fields"]["goals"]["weight"] == 3 and result["fields"]["goals"]["status"] == 1.0
    assert result["fields"]["risks"]["status"] == 0.0 and result["fields"]["risks"]["reason"]
    assert set(result["fields"]) == {
        "goals",
        "stakeholders",
        "success_criteria",
        "risks",
        "scope",
        "sales_conversations",
        "contract_terms",
        "communication_preferences",
    }


def test_overrides_and_rapid_close(tmp_path, capsys):
    data = json.loads(EXAMPLE.read_text())
    data["overrides"] = {"risks": 1, "success_criteria": 1, "communication_preferences": 1}
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(data))
    code, out, _ = run(capsys, path)
    result = json.loads(out)
    assert code == 0 and result["score"] == 100.0 and result["tier"] == "ready"
    assert result["fields"]["risks"]["overridden"] is True

    data = json.loads(EXAMPLE.read_text())
    data["deal"] = {"created_at": "2026-03-01T10:00:00Z", "closed_at": "2026-03-06T10:00:00Z"}
    path.write_text(json.dumps(data))
    code, out, _ = run(capsys, path)
    result = json.loads(out)
    assert result["rapid_close"] is True
    assert set(result["fields"]) == {"goals", "stakeholders", "scope", "risks", "sales_conversations"}
    assert result["score"] == round(10 / 12 * 100, 1)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"goals": 5}, "goals"),
        ({"stakeholders": [{"name": "A", "role": "wizard"}]}, "stakeholders.0.role"),
        ({"overrides": {"goals": 0.7}}, "overrides"),
        ({"overrides": {"vibes": 1}}, "overrides.vibes"),
        ({"colour": "blue"}, "colour"),
        ({"deal": {"created_at": "2026-03-06T10:00:00Z"}}, "deal.closed_at"),
        ({"deal": {"created_at": "2026-03-09T10:00:00Z", "closed_at": "2026-03-06T10:00:00Z"}}, "before created_at"),
    ],
)
def test_invalid_input_exits_2_naming_the_field(tmp_path, capsys, body, named):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(body))
    code, out, err = run(capsys, path)
    assert code == 2 and out == ""
    assert named in err


def test_not_json_or_missing_file(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("{nope")
    assert run(capsys, path)[0] == 2
    path.write_text("[1, 2]")
    assert run(capsys, path)[0] == 2
    code, _, err = run(capsys, tmp_path / "absent.json")
    assert code == 2 and "cannot read" in err
