"""Questionnaire definitions: the shipped ones, a site's own (made up here: licensed wording is never
in this repository), and refusals that name the problem."""

import json

import pytest

from concerto.outcomes import definitions
from concerto.outcomes.definitions import DefinitionError
from concerto.outcomes.scoring import check_answers, score

MADE_UP = {
    "resourceType": "Questionnaire",
    "key": "madeup-wellbeing",
    "url": "https://example.org/Questionnaire/madeup-wellbeing",
    "version": "2",
    "title": "Made-up wellbeing scale",
    "copyright": "Invented for Concerto's tests",
    "licence": {"summary": "Test only", "wording": "site"},
    "contained": {"often": [{"value": v, "display": f"level {v}"} for v in range(1, 6)]},
    "item": [
        {
            "linkId": "feelings",
            "type": "group",
            "text": "Over the last week",
            "item": [
                {
                    "linkId": f"q{n}",
                    "text": f"Made-up statement {n}",
                    "type": "choice",
                    "required": True,
                    "answerValueSet": "#often",
                }
                for n in range(1, 4)
            ],
        }
    ],
    # A licensed scale's conversion table would come from the site's own files, like this invented one.
    "scoring": [
        {
            "key": "metric",
            "label": "Metric score",
            "method": "sum",
            "items": ["q1", "q2", "q3"],
            "range": [3, 15],
            "conversion": {str(n): n * 1.5 for n in range(3, 16)},
        }
    ],
    "risk": [{"linkId": "q3", "operator": "<=", "value": 1, "reason": "Made-up low answer"}],
}


@pytest.fixture
def site_dir(settings, tmp_path):
    settings.QUESTIONNAIRE_DIR = tmp_path
    return tmp_path


def write(directory, name, data):
    (directory / name).write_text(json.dumps(data), encoding="utf-8")


def test_shipped_questionnaires_and_their_licence_notes():
    shipped = definitions.all_questionnaires()
    assert {"phq9", "gad7", "dialog", "gbo"} <= set(shipped)
    assert [len(shipped[k].items) for k in ("phq9", "gad7", "dialog", "gbo")] == [
        10,
        8,
        22,
        6,
    ]  # PHQ-9 and GAD-7 with the difficulty question
    assert shipped["phq9"].wording == "full" and "Pfizer" in shipped["phq9"].copyright
    assert shipped["dialog"].wording == "structure" and "Queen Mary" in shipped["dialog"].copyright
    assert shipped["gbo"].wording == "structure" and "CC BY-NC-SA" in shipped["gbo"].copyright


def test_no_licensed_wording_is_shipped():
    shipped_text = " ".join(p.read_text() for p in definitions.SHIPPED_DIR.glob("*.json")).lower()
    assert "reqol" not in shipped_text and "warwick" not in shipped_text and "wemwbs" not in shipped_text
    assert sorted(p.stem for p in definitions.SHIPPED_DIR.glob("*.json")) == ["dialog", "gad7", "gbo", "phq9"]


def test_a_site_loads_its_own_questionnaire_from_its_directory(site_dir):
    assert "madeup-wellbeing" not in definitions.all_questionnaires()
    write(site_dir, "madeup.json", MADE_UP)
    loaded = definitions.get("madeup-wellbeing")
    assert loaded.source == "site file madeup.json" and loaded.version == "2"
    answers = check_answers(loaded, {"q1": 5, "q2": 4, "q3": 1})
    assert score(loaded, answers)["metric"]["value"] == 15.0  # raw 10 converted by the site's table


def test_a_site_may_replace_shipped_wording_but_not_the_questions(site_dir):
    official = json.loads((definitions.SHIPPED_DIR / "dialog.json").read_text())
    official["item"][0]["item"][0]["item"][0]["text"] = "Official wording (site's own file)"
    official["version"] = "official-1"
    write(site_dir, "dialog.json", official)
    assert definitions.get("dialog").items[0].text == "Official wording (site's own file)"

    official["item"][0]["item"][0]["item"][0]["answerValueSet"] = "#other"
    official["contained"]["other"] = [{"value": 0, "display": "no"}, {"value": 1, "display": "yes"}]
    write(site_dir, "dialog.json", official)
    # The changed file is left out (the shipped structure stays) and the reason is reported.
    assert definitions.get("dialog").source == "shipped"
    (problem,) = definitions.site_problems()
    assert problem.startswith("site file dialog.json") and "questions or answer values differ" in problem


def test_a_broken_site_file_is_reported_and_does_not_stop_the_others(site_dir):
    write(site_dir, "madeup.json", MADE_UP)
    (site_dir / "broken.json").write_text("{not json", encoding="utf-8")
    assert "madeup-wellbeing" in definitions.all_questionnaires()
    assert [p.split(":")[0] for p in definitions.site_problems()] == ["broken.json"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"resourceType": "Patient"}, "resourceType must be"),
        ({"key": "Bad Key"}, "key must be"),
        ({"version": ""}, "'version' is required"),
        ({"item": []}, "at least one question"),
        ({"scoring": [{"key": "x", "method": "median", "items": ["q1"], "range": [0, 1]}]}, "method among"),
        ({"scoring": [{"key": "x", "method": "sum", "items": ["q9"], "range": [0, 1]}]}, "q9"),
        ({"risk": [{"linkId": "q9", "operator": ">", "value": 0}]}, "unknown question q9"),
        ({"contained": {}}, "answerValueSet #often is not in 'contained'"),
    ],
)
def test_a_malformed_definition_is_refused_with_its_reason(change, message):
    with pytest.raises(DefinitionError, match=message) as refused:
        definitions.parse(MADE_UP | change, source="site.json")
    assert str(refused.value).startswith("site.json")


def test_a_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"broken\.json: cannot be read as JSON"):
        definitions.load_file(path)
