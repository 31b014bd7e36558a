"""Recipe loading and lint: every problem as file:line: message, hostile YAML refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from platforms import make_platform, run

from unbinder.cli import cli
from unbinder.contrib.pytest_plugin import BrowserThread
from unbinder.paths import fixtures_dir, recipes_dir
from unbinder.recipe.lint import lint_file
from unbinder.recipe.load import load_all
from unbinder.recipe.schema import json_schema

EXAMPLE = recipes_dir() / "example-cn.yaml"


def _write(tmp_path: Path, text: str, name: str = "example-cn.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def _messages(path: Path) -> list[str]:
    return [str(p) for p in lint_file(path, fixtures_dir()) if p.severity == "error"]


def test_shipped_recipes_are_clean() -> None:
    result = CliRunner().invoke(cli, ["recipes", "lint"])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_schema_file_is_in_sync_with_the_model() -> None:
    on_disk = json.loads((recipes_dir() / "schema.json").read_text(encoding="utf-8"))
    assert on_disk == json_schema(), "run: unbinder recipes schema --write"


def test_every_recipe_names_the_schema_for_editors() -> None:
    from unbinder.contrib.scaffold import render

    texts = {str(loaded.path): loaded.path.read_text(encoding="utf-8") for loaded in load_all()}
    for region in ("CN", "US"):
        files = render("scaffolded", "Scaffolded", "scaffolded.example", region, None)
        texts[f"scaffold ({region})"] = files["recipes/scaffolded.yaml"]
    for where, text in texts.items():
        assert text.splitlines()[0] == "# yaml-language-server: $schema=schema.json", where


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("regions: [CN]", "regions: [CN")
    errors = _messages(_write(tmp_path, text))
    assert len(errors) == 1
    assert errors[0].startswith(f"{tmp_path / 'example-cn.yaml'}:")
    assert "invalid YAML" in errors[0]


def test_unknown_key_names_its_line_and_suggests(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "      - click: next_button\n", "      - clik: next_button\n", 1
    )
    path = _write(tmp_path, text)
    errors = _messages(path)
    line = _line_of(text, "clik: next_button")
    assert any(
        e.startswith(f"{path}:{line}:") and "unknown step 'clik'" in e and "'click'" in e
        for e in errors
    ), errors


def test_unknown_top_level_key(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("harm: 3", "harm: 3\nhomepgae: x")
    path = _write(tmp_path, text)
    errors = _messages(path)
    assert any(
        f":{_line_of(text, 'homepgae')}:" in e and "unknown key 'homepgae'" in e for e in errors
    ), errors


def test_undefined_selector(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "      - click: next_button\n", "      - click: nxt_button\n", 1
    )
    path = _write(tmp_path, text)
    errors = _messages(path)
    line = _line_of(text, "click: nxt_button")
    assert any(f":{line}:" in e and "selector 'nxt_button' is not defined" in e for e in errors), (
        errors
    )


def test_host_outside_domains(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "      - goto: https://passport.example-cn.test/forgot",
        "      - goto: https://collector.example.net/?n={phone.e164}",
    )
    path = _write(tmp_path, text)
    errors = _messages(path)
    line = _line_of(text, "collector.example.net")
    assert any(
        f":{line}:" in e and "'collector.example.net' is not in this recipe's domains" in e
        for e in errors
    ), errors


def test_python_object_tag_is_refused(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "maintainers: [unbinder]",
        "maintainers: !!python/object/apply:os.system ['touch /tmp/pwned']",
    )
    path = _write(tmp_path, text)
    errors = _messages(path)
    assert len(errors) == 1
    assert f":{_line_of(text, 'python/object')}:" in errors[0]
    assert "can never run code" in errors[0]
    assert not Path("/tmp/pwned").exists()


def test_billion_laughs_is_refused_fast(tmp_path: Path) -> None:
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        bomb.append(
            f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]"
        )
    path = _write(tmp_path, "\n".join(bomb) + "\n")
    errors = _messages(path)
    assert len(errors) == 1
    assert "anchors and aliases" in errors[0]


ABSURD = {
    "step timeout": (
        "      - click: next_button\n",
        "      - click: next_button\n        timeout: 99999\n",
        "steps[step 3].timeout: Input should be less than or equal to 120",
    ),
    "infinite step timeout": (
        "      - click: next_button\n",
        "      - click: next_button\n        timeout: .inf\n",
        "steps[step 3].timeout: Input should be less than or equal to 120",
    ),
    "NaN step timeout": (
        "      - click: next_button\n",
        "      - click: next_button\n        timeout: .nan\n",
        "steps[step 3].timeout: Input should be less than or equal to 120",
    ),
    "negative step timeout": (
        "      - click: next_button\n",
        "      - click: next_button\n        timeout: -1\n",
        "steps[step 3].timeout: Input should be greater than 0",
    ),
    "flow timeout": (
        "  check:\n    description:",
        "  check:\n    timeout: 99999\n    description:",
        "flows.check.timeout: Input should be less than or equal to 900",
    ),
    "detect timeout": (
        "  check:\n    description:",
        "  check:\n    detect_timeout: 1e9\n    description:",
        "flows.check.detect_timeout: Input should be less than or equal to 120",
    ),
    "human timeout": (
        "                until: {visible: bound_number}\n",
        "                until: {visible: bound_number}\n                timeout: 100000\n",
        "human.timeout: Input should be less than or equal to 1800",
    ),
    "retry count": (
        "      - click: next_button\n",
        "      - click: next_button\n"
        "      - retry: {times: 1000, steps: [{click: next_button}], until: {text: x}}\n",
        "times: Input should be less than or equal to 5",
    ),
    "retry delay": (
        "      - click: next_button\n",
        "      - click: next_button\n"
        "      - retry: {times: 2, delay: 86400, steps: [{click: next_button}], until: {text: x}}\n",
        "retry.delay: Input should be less than or equal to 30",
    ),
    "rate-limit retries": (
        "  max_retries: 2\n",
        "  max_retries: 1000\n",
        "limits.max_retries: Input should be less than or equal to 5",
    ),
    "rate-limit waiting": (
        "  max_retries: 2\n  backoff: 5\n",
        "  max_retries: 5\n  backoff: 300\n",
        "limits: max_retries 5 with backoff 300s would wait 9300s in all",
    ),
    "minimum interval": (
        "  min_interval: 3600\n",
        "  min_interval: 1e12\n",
        "limits.min_interval: Input should be less than or equal to 2592000",
    ),
}


@pytest.mark.parametrize("case", sorted(ABSURD))
def test_absurd_timeouts_and_retries_are_refused(tmp_path: Path, case: str) -> None:
    old, new, message = ABSURD[case]
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    changed = text.replace(old, new, 1)
    path = _write(tmp_path, changed)
    errors = _messages(path)
    assert len(errors) == 1, errors
    line = next(
        i
        for i, (a, b) in enumerate(
            zip(text.splitlines(), changed.splitlines(), strict=False), start=1
        )
        if a != b
    )
    where, _, said = errors[0].partition(": ")
    assert message in said
    # The line named is the changed one, or the mapping that holds it (limits:, check:).
    assert where.startswith(f"{path}:")
    assert int(where.rsplit(":", 1)[1]) in range(line - 2, line + 1), (errors[0], line)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "router.local", "evil.localhost"]
)
def test_domains_that_reach_this_machine_or_network_are_refused(tmp_path: Path, host: str) -> None:
    # Live checks reach a recipe's own domains directly, bypassing the guard's proxy.
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "domains: [example-cn.test]", f"domains: [example-cn.test, {host}]"
    )
    path = _write(tmp_path, text)
    what = (
        "is a loopback or local name; a recipe lists public host names only"
        if host.endswith(("local", "localhost"))
        else "is an IP address (in any spelling); a recipe lists host names only"
    )
    assert _messages(path) == [f"{path}:{_line_of(text, 'domains:')}: domains: {host!r} {what}"]


def test_destructive_step_without_confirm(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("      - confirm:\n          action:\n            en: Change")
    end = text.index("      - click: {target: confirm_change, destructive: true}")
    broken = text[:start] + text[end:]
    path = _write(tmp_path, broken)
    errors = _messages(path)
    line = _line_of(broken, "confirm_change, destructive: true")
    assert any(f":{line}:" in e and "needs a `confirm` step before it" in e for e in errors), errors


def test_outcome_without_a_test(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("  - name: too many requests is rate limited")
    end = text.index("  - name: risk control needs a human")
    path = _write(tmp_path, text[:start] + text[end:])
    errors = _messages(path)
    assert any(
        "the check flow can end `rate_limited` but no test expects it" in e for e in errors
    ), errors


def test_unknown_placeholder(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "{phone.national_digits}", "{phone.digits}", 1
    )
    errors = _messages(_write(tmp_path, text))
    assert any("unknown placeholder {phone.digits}" in e for e in errors), errors


def test_verdict_outcome_in_an_else_branch(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "      - click: next_button\n",
        "      - click: next_button\n"
        "      - if:\n"
        "          condition: {visible: slider_captcha}\n"
        "          then: [{outcome: {status: needs_human, kind: captcha}}]\n"
        "          else: [{outcome: {status: not_bound}}]\n",
        1,
    )
    errors = _messages(_write(tmp_path, text))
    assert any("an `else` proves nothing" in e for e in errors), errors


def test_missing_replica(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    path = _write(tmp_path, text)
    errors = [str(p) for p in lint_file(path, tmp_path / "no-fixtures")]
    assert any("no offline replica" in e for e in errors), errors


def test_lint_cli_reports_file_line_and_exits_1(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "      - click: next_button\n", "      - click: nxt_button\n", 1
    )
    path = _write(tmp_path, text)
    result = CliRunner().invoke(cli, ["recipes", "lint", str(path)])
    assert result.exit_code == 1
    assert (
        f"{path}:{_line_of(text, 'nxt_button')}: selector 'nxt_button' is not defined"
        in result.output
    )


def test_replica_page_escaping_the_fixture_folder_is_refused(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    shutil.copytree(fixtures_dir() / "example-cn", fixtures / "example-cn")
    replica = fixtures / "example-cn" / "replica.yaml"
    replica.write_text(
        replica.read_text(encoding="utf-8").replace(
            "page: forgot.html", "page: ../../../etc/passwd"
        ),
        encoding="utf-8",
    )
    errors = [str(p) for p in lint_file(EXAMPLE, fixtures)]
    assert any("escapes the fixture folder" in e for e in errors), errors


@pytest.mark.parametrize(
    ("replica", "message"),
    [
        (
            "region: !!python/object/apply:os.system ['touch /tmp/unbinder-pwned']\nroutes: []\n",
            "can never run code",
        ),
        (
            "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
            "routes:\n  - url: https://passport.example-cn.test/forgot\n"
            "    respond: {found: {json: *d}}\n",
            "anchors and aliases (&name, *name) are not allowed",
        ),
    ],
    ids=["python tag", "billion laughs"],
)
def test_hostile_replica_yaml_is_refused(tmp_path: Path, replica: str, message: str) -> None:
    fixtures = tmp_path / "fixtures"
    (fixtures / "example-cn").mkdir(parents=True)
    (fixtures / "example-cn" / "replica.yaml").write_text(replica, encoding="utf-8")
    errors = [str(p) for p in lint_file(EXAMPLE, fixtures)]
    assert any(message in e and "replica.yaml:" in e for e in errors), errors
    assert not Path("/tmp/unbinder-pwned").exists()


@pytest.mark.parametrize("how", ["absolute path", "symbolic link"])
def test_replica_pages_outside_the_fixture_folder_are_never_served(
    tmp_path: Path, unbinder_browser: BrowserThread, how: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0 secret outside the fixtures", encoding="utf-8")
    page = str(secret) if how == "absolute path" else "leak.html"
    replica = f"""\
region: CN
routes:
  - url: https://www.{{id}}.test/
    page: {page}
scenarios:
  default:
    accounts: []
"""
    flow = """\
flows:
  check:
    detect_timeout: 2
    steps:
      - goto: https://www.tp.test/
    detect:
      - when: {text: "root:x:0:0"}
        outcome: bound
        evidence: the file outside the fixture folder was served
"""
    platform = make_platform(tmp_path / "p", flow, {}, replica=replica)
    if how == "symbolic link":
        (platform.fixtures / "tp" / "leak.html").symlink_to(secret)
    outcome, _ = run(unbinder_browser, platform)
    assert outcome.status == "unknown", outcome.summary()
    assert outcome.evidence is not None and outcome.evidence.matched == "HTTP status 500"


@pytest.mark.parametrize("bad_id", ["../../etc", "../../etc/passwd", "Example", "a b", "nosuch"])
@pytest.mark.parametrize(
    "command",
    [
        ["recipes", "test"],
        ["recipes", "show"],
        ["audit", "+86 138 0013 8000", "--yes", "--no-trail", "--fixtures", "--platform"],
    ],
    ids=["recipes test", "recipes show", "audit --platform"],
)
def test_unknown_or_hostile_platform_ids(command: list[str], bad_id: str) -> None:
    result = CliRunner().invoke(cli, [*command, bad_id])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: no recipe for platform {bad_id!r}")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def _replica_copy(tmp_path: Path) -> tuple[Path, Path]:
    fixtures = tmp_path / "fixtures"
    shutil.copytree(fixtures_dir() / "example-cn", fixtures / "example-cn")
    return fixtures, fixtures / "example-cn" / "replica.yaml"


def test_replica_problems_name_the_replica_file_and_line(tmp_path: Path) -> None:
    fixtures, replica = _replica_copy(tmp_path)
    text = replica.read_text(encoding="utf-8").replace("    action: lookup", "    acton: lookup", 1)
    replica.write_text(text, encoding="utf-8")
    problems = [p for p in lint_file(EXAMPLE, fixtures) if p.severity == "error"]
    assert len(problems) == 1, problems
    assert problems[0].path == replica
    assert problems[0].line == _line_of(text, "acton: lookup")
    assert "unknown key 'acton'" in problems[0].message


def test_a_replica_page_that_does_not_exist(tmp_path: Path) -> None:
    fixtures, replica = _replica_copy(tmp_path)
    text = replica.read_text(encoding="utf-8").replace("page: forgot.html", "page: forgott.html")
    replica.write_text(text, encoding="utf-8")
    errors = [str(p) for p in lint_file(EXAMPLE, fixtures) if p.severity == "error"]
    line = _line_of(text, "forgott.html")
    assert f"{replica}:{line}: page 'forgott.html' does not exist" in "\n".join(errors), errors


def test_a_replica_route_outside_the_domains(tmp_path: Path) -> None:
    fixtures, replica = _replica_copy(tmp_path)
    text = replica.read_text(encoding="utf-8").replace(
        "https://passport.example-cn.test/forgot", "https://passport.example-cn.net/forgot", 1
    )
    replica.write_text(text, encoding="utf-8")
    errors = [str(p) for p in lint_file(EXAMPLE, fixtures) if p.severity == "error"]
    line = _line_of(text, "example-cn.net/forgot")
    assert any(
        e.startswith(f"{replica}:{line}:")
        and "'passport.example-cn.net'" in e
        and "add the host" in e
        for e in errors
    ), errors


def test_an_unknown_scenario_suggests_the_close_one(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "    scenario: not_registered\n", "    scenario: not_registred\n", 1
    )
    errors = _messages(_write(tmp_path, text))
    line = _line_of(text, "not_registred")
    assert any(
        f":{line}:" in e and "did you mean 'not_registered'" in e and "add it under" in e
        for e in errors
    ), errors


def test_an_untested_outcome_shows_the_test_to_add(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("  - name: too many requests is rate limited")
    end = text.index("  - name: risk control needs a human")
    errors = _messages(_write(tmp_path, text[:start] + text[end:]))
    assert any("expect: {outcome: rate_limited}" in e for e in errors), errors


def test_last_verified_written_as_people_write_dates(tmp_path: Path) -> None:
    base = EXAMPLE.read_text(encoding="utf-8")
    plain = base.replace(
        "status: unverified\nlast_verified: null", "status: working\nlast_verified: 2025-03-14"
    )
    assert _messages(_write(tmp_path, plain)) == []
    from unbinder.recipe.catalog import read_entry

    assert read_entry(tmp_path / "example-cn.yaml").last_verified == "2025-03-14"  # list/show agree
    wrong = base.replace("last_verified: null", "last_verified: last week")
    errors = _messages(_write(tmp_path, wrong))
    assert any(
        f":{_line_of(wrong, 'last week')}:" in e and "write YYYY-MM-DD" in e for e in errors
    ), errors


def test_a_misnamed_recipe_file_says_how_to_fix_it(tmp_path: Path) -> None:
    path = _write(tmp_path, EXAMPLE.read_text(encoding="utf-8"), name="example-cm.yaml")
    errors = _messages(path)
    assert any("rename the file to example-cn.yaml" in e for e in errors), errors


# --------------------------------------------------------------------------- sources

SOURCES = """\
sources:
  forgot_js:
    repo: someone/example-cn-tools
    path: src/forgot.js
    commit: 0123abcd
    read: 2025-02-01
    shows: the recovery page posts the number to /api/account/exists
  help_article:
    url: https://help.example-cn.test/register
    read: "2025-02-02"
    shows: the page says 该手机号未注册 for a number without an account
"""
BOUND = "        evidence: the platform's lookup says an account exists for this number\n"
NOT_BOUND = "        evidence: the platform says no account uses this number\n"


def _platform(*, sources: bool = True, cite: dict[str, str] | None = None) -> str:
    """example-cn as a real platform's recipe (not a demo); `cite` adds lines after a line."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("demo: true\n", "")
    if sources:
        text = text.replace("\nselectors:\n", "\n" + SOURCES + "\nselectors:\n", 1)
    for after, extra in (cite or {}).items():
        assert text.count(after) == 1, after
        text = text.replace(after, after + extra)
    return text


def _warnings(path: Path, fixtures: Path | None = None) -> list[str]:
    return [str(p) for p in lint_file(path, fixtures or fixtures_dir()) if p.severity == "warning"]


def test_a_cited_source_must_be_in_sources_with_its_line_and_a_suggestion(tmp_path: Path) -> None:
    from unbinder.errors import RecipeError
    from unbinder.recipe.load import parse_recipe

    text = _platform(
        cite={
            NOT_BOUND: "        source: help_artcle\n",
            "      - goto: https://passport.example-cn.test/forgot\n": (
                "        source: [forgot_js, changelog]\n"
            ),
        }
    )
    path = _write(tmp_path, text)
    errors = _messages(path)
    assert (
        f"{path}:{_line_of(text, 'source: help_artcle')}: flows.check.detect[rule 5].source: "
        in ("\n".join(errors))
    )
    assert any(
        "source 'help_artcle' is not in `sources:` (did you mean 'help_article'?)" in e
        for e in errors
    ), errors
    assert any(
        e.startswith(f"{path}:{_line_of(text, 'changelog')}: flows.check.steps[step 1].source: ")
        and "source 'changelog' is not in `sources:`; add it there" in e
        for e in errors
    ), errors
    assert len(errors) == 2, errors  # forgot_js exists
    with pytest.raises(RecipeError, match="help_artcle"):
        parse_recipe(text, path)  # refused at load too: an audit never runs it


def test_every_kind_of_citation_is_checked(tmp_path: Path) -> None:
    text = _platform(
        cite={
            "  phone_input:\n    - role: textbox\n": "      source: forgot_jss\n",
            "\nflows:\n": (
                "  manual:\n    source: [help_article, nowhere]\n"
                "    steps: {en: [Open the app and change the number]}\n"
            ),
        }
    )
    path = _write(tmp_path, text)
    assert _messages(path) == [
        f"{path}:{_line_of(text, 'forgot_jss')}: selectors.phone_input[alternative 1].source: source "
        "'forgot_jss' is not in `sources:` (did you mean 'forgot_js'?)",
        f"{path}:{_line_of(text, 'nowhere')}: flows.manual.source: source 'nowhere' is not in "
        "`sources:`; add it there with `url` (or `repo` and `path`), `read` and `shows`",
    ]


def test_source_and_assumed_together_are_refused(tmp_path: Path) -> None:
    text = _platform(cite={BOUND: "        source: forgot_js\n        assumed: true\n"})
    path = _write(tmp_path, text)
    errors = _messages(path)
    rule_line = _line_of(text, 'response: {url: "**/api/account/exists", json: data.exists') - 1
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{path}:{rule_line}: flows.check.detect[rule 4]: ")
    assert "`source` and `assumed: true` exclude each other" in errors[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("    url: https://help", "    repo: someone/help\n    url: https://help"),
            "exactly one of `url`, or `repo` with `path`",
        ),
        (("    url: https://help.example-cn.test/register\n", ""), "exactly one of `url`"),
        (("    path: src/forgot.js\n", ""), "`repo` and `path` go together"),
        (("    read: 2025-02-01", "    read: last spring"), "'last spring' is not a date"),
        (
            ("    shows: the page says", "    show: the page says"),
            "unknown key 'show' in sources.help_article (did you mean 'shows'?)",
        ),
        (("  help_article:", "  Help Article:"), "source id 'Help Article' must be"),
        (("    url: https://help.", "    url: ftp://help."), "is not a page address"),
    ],
)
def test_a_source_says_where_and_when_and_what(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = _platform().replace(*change)
    path = _write(tmp_path, text)
    errors = _messages(path)
    assert any(message in e for e in errors), errors
    for error in errors:  # each names a line of the `sources:` block
        line = int(error.removeprefix(f"{path}:").split(":")[0])
        assert _line_of(text, "sources:") <= line < _line_of(text, "selectors:"), errors


def test_an_unsourced_verdict_rule_is_a_warning_and_lint_still_passes(tmp_path: Path) -> None:
    text = _platform(cite={BOUND: "        source: [forgot_js, help_article]\n"})
    path = _write(tmp_path, text)
    assert _messages(path) == []
    unsourced = [w for w in _warnings(path) if "rule cites no source" in w]
    # check: not_bound; verify: not_bound and bound. The cited bound rule is not warned.
    assert [w.split(": warning: ")[1][:34] for w in unsourced] == [
        "this not_bound rule cites no sourc",
        "this not_bound rule cites no sourc",
        "this bound rule cites no source: a",
    ]
    assert unsourced[0].startswith(f"{path}:{_line_of(text, 'when: {text: 该手机号未注册}')}:")
    assert "or `assumed: true`" in unsourced[0]
    result = CliRunner().invoke(cli, ["recipes", "lint", str(path)])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output
    assert "warning: this bound rule cites no source" in result.output


def test_assumed_rules_are_not_warned(tmp_path: Path) -> None:
    assumed = "        assumed: true\n"
    text = _platform(cite={BOUND: assumed, NOT_BOUND: assumed})
    text = text.replace(
        "        evidence: the security page says no number is bound\n",
        "        evidence: the security page says no number is bound\n" + assumed,
    ).replace(
        "        evidence: the security page shows a bound number\n",
        "        evidence: the security page shows a bound number\n        source: help_article\n",
    )
    path = _write(tmp_path, text)
    assert _messages(path) == []
    assert [w for w in _warnings(path) if "source" in w] == []


def test_a_platform_without_sources_is_warned_but_demos_and_fault_sites_are_spared(
    tmp_path: Path,
) -> None:
    text = _platform(sources=False)
    path = _write(tmp_path, text)
    assert _messages(path) == []
    missing = [w for w in _warnings(path) if "has no `sources:`" in w]
    assert missing == [
        f"{path}:{_line_of(text, 'id: example-cn')}: warning: the recipe has no `sources:`: list "
        "the public pages and files it rests on, with the date you read them, and cite them with "
        "`source:` (docs/recipes.md, Sources)"
    ]
    assert len([w for w in _warnings(path) if "cites no source" in w]) == 4
    # The demo (example-cn as shipped) and a fault site copy no real platform: nothing to cite.
    assert [w for w in _warnings(EXAMPLE) if "source" in w] == []
    fault = fixtures_dir() / "faults" / "bot-wall" / "recipe.yaml"
    assert [w for w in _warnings(fault, fixtures_dir() / "faults") if "source" in w] == []


def test_the_share_of_sourced_verdict_rules(tmp_path: Path) -> None:
    from unbinder.recipe.lint import sourced_share
    from unbinder.recipe.load import parse_recipe

    text = _platform(
        cite={BOUND: "        source: forgot_js\n", NOT_BOUND: "        assumed: true\n"}
    )
    recipe = parse_recipe(text, tmp_path / "example-cn.yaml").recipe
    assert sourced_share([recipe]).share == 0.25  # 1 of 4 verdict rules: check and verify
    assert recipe.sourcing().confidence == "partly"
    demo = load_all()
    shipped = sourced_share(loaded.recipe for loaded in demo)
    assert shipped.verdict_rules == sum(len(list(r.recipe.verdict_rules())) for r in demo) > 0
    assert sourced_share([]).share is None
