"""`unbinder recipes new`: a scaffold that lints and tests green before any edit, and never clobbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from unbinder.cli import cli
from unbinder.contrib.scaffold import FIXTURE_TEMPLATES, scaffold
from unbinder.recipe.load import load_recipe_file
from unbinder.recipe.schema import SCHEMA_HEADER, schema_text


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project: recipes/ and fixtures/ that every command uses."""
    monkeypatch.setenv("UNBINDER_RECIPES", str(tmp_path / "recipes"))
    monkeypatch.setenv("UNBINDER_FIXTURES", str(tmp_path / "fixtures"))
    return tmp_path


@pytest.mark.parametrize(
    ("args", "platform_id", "words"),
    [
        (
            ["--name", "Parcelly", "--name-zh", "包裹侠", "--domain", "parcelly.cn"],
            "parcelly",
            "手机号",
        ),
        (
            ["--name", 'Acme: "Mail" #1', "--domain", "Accounts.Acme-Mail.com", "--region", "gb"],
            "acme-mail",
            "Phone number",
        ),
    ],
)
def test_new_then_lint_and_test_are_green_without_edits(
    project: Path, args: list[str], platform_id: str, words: str
) -> None:
    runner = CliRunner()
    made = runner.invoke(cli, ["recipes", "new", platform_id, *args])
    assert made.exit_code == 0, made.output
    recipe = project / "recipes" / f"{platform_id}.yaml"
    assert f"created {recipe}" in made.output
    assert words in (project / "fixtures" / platform_id / "check.html").read_text(encoding="utf-8")

    lint = runner.invoke(cli, ["recipes", "lint"])
    assert lint.exit_code == 0, lint.output
    assert "0 error(s), 0 warning(s)." in lint.output

    tested = runner.invoke(cli, ["recipes", "test", platform_id])
    assert tested.exit_code == 0, tested.output
    assert "5 passed, 0 failed." in tested.output
    for outcome in ("bound", "not bound", "captcha", "rate limited", "unknown"):
        assert outcome in tested.output


def test_dir_writes_a_whole_project_with_the_schema_next_to_the_recipe(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "recipes",
            "new",
            "tiny",
            "--name",
            "Tiny",
            "--domain",
            "tiny.example",
            "--dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    recipe = tmp_path / "recipes" / "tiny.yaml"
    assert recipe.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_HEADER
    assert (tmp_path / "recipes" / "schema.json").read_text(encoding="utf-8") == schema_text()
    for target in FIXTURE_TEMPLATES.values():
        assert (tmp_path / "fixtures" / "tiny" / target).is_file(), target
    loaded = load_recipe_file(recipe)
    assert loaded.recipe.status == "unverified"
    assert loaded.recipe.last_verified is None
    assert loaded.recipe.regions == ["US"]
    assert loaded.recipe.domains == ["tiny.example"]
    # The command tells a newcomer how to run the tests of a project outside the default folders.
    assert f"UNBINDER_RECIPES={tmp_path / 'recipes'}" in result.output


def test_starter_tests_use_made_up_numbers_only(tmp_path: Path) -> None:
    made = scaffold("numbers", name="Numbers", domain="numbers.cn", root=tmp_path)
    text = made.recipe.read_text(encoding="utf-8")
    # libphonenumber's example mobile number for CN, never a person's.
    assert text.count('phone: "+86 131 2345 6789"') == 5


def test_an_existing_recipe_is_never_overwritten(project: Path) -> None:
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["recipes", "new", "twice", "--name", "A", "--domain", "a.cn"]).exit_code
        == 0
    )
    recipe = project / "recipes" / "twice.yaml"
    recipe.write_text(recipe.read_text(encoding="utf-8") + "# my edits\n", encoding="utf-8")
    before = recipe.read_bytes()
    again = runner.invoke(cli, ["recipes", "new", "twice", "--name", "B", "--domain", "b.cn"])
    assert again.exit_code == 2
    assert again.output.count("\n") == 1, again.output  # one line
    assert "already exists" in again.output and "never overwrites" in again.output
    assert recipe.read_bytes() == before


def test_existing_fixtures_are_never_overwritten(project: Path) -> None:
    page = project / "fixtures" / "taken" / "check.html"
    page.parent.mkdir(parents=True)
    page.write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(cli, ["recipes", "new", "taken", "--name", "T", "--domain", "t.cn"])
    assert result.exit_code == 2
    assert "check.html already exists" in result.output
    assert page.read_text(encoding="utf-8") == "mine"
    assert not (project / "recipes" / "taken.yaml").exists()  # nothing half-written


def test_a_recording_made_first_does_not_block_the_scaffold(project: Path) -> None:
    recorded = project / "fixtures" / "early" / "recorded" / "01-page.html"
    recorded.parent.mkdir(parents=True)
    recorded.write_text("<p>recorded</p>", encoding="utf-8")
    result = CliRunner().invoke(cli, ["recipes", "new", "early", "--name", "E", "--domain", "e.cn"])
    assert result.exit_code == 0, result.output
    assert recorded.read_text(encoding="utf-8") == "<p>recorded</p>"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad_Id", "--name", "X", "--domain", "x.cn"], "not a usable platform id"),
        (["../../etc", "--name", "X", "--domain", "x.cn"], "not a usable platform id"),
        (["ok-id", "--name", "X", "--domain", "https://x.cn/"], "is a URL, not a domain"),
        (["ok-id", "--name", "X", "--domain", "localhost"], "is not a domain name"),
        (["ok-id", "--name", "X", "--domain", "x.cn", "--region", "XX"], "unknown region 'XX'"),
        (["ok-id", "--name", "X\nid: evil", "--domain", "x.cn"], "line break"),
        (["ok-id", "--name", "  ", "--domain", "x.cn"], "needs a name"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(project: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["recipes", "new", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.output.startswith("Error: ")
    assert result.output.count("\n") == 1
    assert not (project / "recipes").exists()
