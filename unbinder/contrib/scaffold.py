"""Scaffold a new platform: a recipe, its offline replica and starter tests that pass as written.

`unbinder recipes new` calls `scaffold()`. The files come from jinja2 templates in
`unbinder/templates/scaffold/`; what they say depends only on the id, names, domain and region.
The starter replica has one page per outcome a check can reach (bound, not bound, captcha, rate
limited, server error), so the contributor edits working files instead of starting from nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unbinder.errors import BadInput
from unbinder.i18n.translate import _
from unbinder.paths import fixtures_dir, recipes_dir
from unbinder.recipe.load import recipe_problems
from unbinder.recipe.model import DOMAIN_PATTERN
from unbinder.recipe.names import ID_PATTERN
from unbinder.recipe.schema import SCHEMA_HEADER, schema_text

# Template name -> file written (relative to fixtures/<id>/), besides the recipe itself.
FIXTURE_TEMPLATES = {
    "replica.yaml.j2": "replica.yaml",
    "check.html.j2": "check.html",
    "bound.html.j2": "bound.html",
    "not_bound.html.j2": "not_bound.html",
    "captcha.html.j2": "captcha.html",
    "rate_limited.html.j2": "rate_limited.html",
    "server_error.html.j2": "server_error.html",
}

# The words the starter pages show and the recipe looks for, in the platform's language.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "lang": "en",
        "title": "Find your account",
        "intro": "Enter the phone number of your account.",
        "phone_label": "Phone number",
        "phone_placeholder": "Enter your phone number",
        "next": "Next",
        "bound": "Enter the password for this account",
        "password": "Password",
        "not_bound": "No account uses this phone number",
        "try_again": "Try again",
        "captcha": "Security check",
        "captcha_hint": "Drag the slider to complete the puzzle",
        "slider": "Drag the slider",
        "rate_limited": "Too many requests. Please try again later.",
        "rate_limited_short": "Too many requests",
        "server_error": "Something went wrong on our side. Please try again later.",
    },
    "zh-CN": {
        "lang": "zh-CN",
        "title": "找回账号",
        "intro": "请输入账号绑定的手机号。",
        "phone_label": "手机号",
        "phone_placeholder": "请输入手机号",
        "next": "下一步",
        "bound": "请输入该账号的登录密码",
        "password": "密码",
        "not_bound": "该手机号未注册",
        "try_again": "重新输入",
        "captcha": "安全验证",
        "captcha_hint": "请拖动滑块完成拼图验证",
        "slider": "拖动滑块",
        "rate_limited": "操作过于频繁，请稍后再试",
        "rate_limited_short": "操作过于频繁",
        "server_error": "系统繁忙，请稍后再试",
    },
}


@dataclass(frozen=True)
class Scaffolded:
    """What `scaffold()` wrote."""

    platform_id: str
    recipe: Path
    fixtures: Path
    files: tuple[Path, ...]


def check_id(platform_id: str) -> str:
    """A platform id: lower-case letters, digits and dashes, 1-40 characters."""
    if not re.fullmatch(ID_PATTERN, platform_id):
        raise BadInput(
            _("{platform_id!r} is not a usable platform id.").format(platform_id=platform_id),
            hint=_(
                "Use 1-40 lower-case letters, digits and dashes, starting with a letter or "
                "digit, e.g. my-platform."
            ),
        )
    return platform_id


def check_domain(domain: str) -> str:
    """A bare host name (example.com), the form `domains:` takes."""
    bare = domain.strip().lower()
    if "://" in bare or "/" in bare:
        raise BadInput(
            _("{domain!r} is a URL, not a domain.").format(domain=domain),
            hint=_("Give the host name only, e.g. --domain example.com."),
        )
    if not re.fullmatch(DOMAIN_PATTERN, bare):
        raise BadInput(
            _("{domain!r} is not a domain name.").format(domain=domain),
            hint=_("Give a host name such as example.com (letters, digits, dashes and dots)."),
        )
    return bare


def check_region(region: str | None, domain: str) -> str:
    """The ISO region of the platform's numbers (default: CN for .cn domains, else US)."""
    import phonenumbers

    chosen = (region or ("CN" if domain.endswith(".cn") else "US")).upper()
    if chosen not in phonenumbers.SUPPORTED_REGIONS:
        raise BadInput(
            _("unknown region {chosen!r}.").format(chosen=chosen),
            hint=_("Use a two-letter country code such as CN, US or GB."),
        )
    return chosen


def example_number(region: str) -> str:
    """libphonenumber's example mobile number for `region`: made up, never anyone's."""
    import phonenumbers

    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if number is None:
        raise BadInput(
            _("there is no example mobile number for region {region!r}.").format(region=region),
            hint=_("Pick the region whose numbers the platform uses, e.g. CN or US."),
        )
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("unbinder", "templates/scaffold"),
        # HTML templates escape what they insert; YAML templates quote through the `q` filter.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _yaml_quote(value: object) -> str:
    """A YAML scalar for any string: JSON strings are valid YAML, quotes and colons included."""
    return json.dumps(str(value), ensure_ascii=False)


def render(
    platform_id: str, name: str, domain: str, region: str, name_zh: str | None
) -> dict[str, str]:
    """Every scaffold file's text, keyed by its path relative to the project root."""
    env = _environment()
    env.filters["q"] = _yaml_quote
    lang = "zh-CN" if region == "CN" else "en"
    values = {
        "id": platform_id,
        "name": name,
        "name_zh": name_zh,
        "domain": domain,
        "region": region,
        "phone": example_number(region),
        "t": TEXTS[lang],
        "schema_header": SCHEMA_HEADER,
        "today": dt.date.today().isoformat(),  # when the placeholder source was "read"
    }
    files = {f"recipes/{platform_id}.yaml": env.get_template("recipe.yaml.j2").render(values)}
    for template, target in FIXTURE_TEMPLATES.items():
        files[f"fixtures/{platform_id}/{target}"] = env.get_template(template).render(values)
    return files


def scaffold(
    platform_id: str,
    *,
    name: str,
    domain: str,
    name_zh: str | None = None,
    region: str | None = None,
    root: Path | None = None,
) -> Scaffolded:
    """Write recipes/<id>.yaml and fixtures/<id>/ (under `root`, else the configured folders).

    Refuses (BadInput) when the recipe or any file it would write exists: nothing is overwritten.
    """
    check_id(platform_id)
    domain = check_domain(domain)
    region = check_region(region, domain)
    for label, value in (("--name", name), ("--name-zh", name_zh or "")):
        if any(ord(ch) < 32 for ch in value):
            raise BadInput(
                _("{label} contains a line break or control character.").format(label=label),
                hint=_("Use one line."),
            )
    if not name.strip():
        raise BadInput(
            _("the platform needs a name."), hint=_("Pass --name, e.g. --name 'My Platform'.")
        )
    recipes = root / "recipes" if root is not None else recipes_dir()
    fixtures = root / "fixtures" if root is not None else fixtures_dir()
    files = render(platform_id, name.strip(), domain, region, (name_zh or "").strip() or None)
    targets = {
        (recipes if rel.startswith("recipes/") else fixtures) / rel.split("/", 1)[1]: text
        for rel, text in files.items()
    }
    recipe_path = recipes / f"{platform_id}.yaml"
    if recipe_path.exists():
        raise BadInput(
            _("{recipe_path} already exists; `recipes new` never overwrites a recipe.").format(
                recipe_path=recipe_path
            ),
            hint=_("Edit it, or pick another id."),
        )
    clashes = [p for p in targets if p.exists()]
    if clashes:
        raise BadInput(
            _("{value} already exists; `recipes new` never overwrites fixtures.").format(
                value=clashes[0]
            ),
            hint=_("Move fixtures/{platform_id}/ away, or pick another id.").format(
                platform_id=platform_id
            ),
        )
    # The rendered recipe must load: a name that breaks it is a bug here, not the user's.
    loaded = recipe_problems(files[f"recipes/{platform_id}.yaml"], recipe_path)
    if isinstance(loaded, list):  # pragma: no cover - guarded by tests over odd names
        raise AssertionError("scaffolded recipe does not load: " + "; ".join(loaded))
    written: list[Path] = []
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as fh:  # "x": never clobber a file made meanwhile
            fh.write(text)
        written.append(path)
    schema = recipes / "schema.json"
    if not schema.exists():
        # The recipe's first line points editors at schema.json next to it.
        schema.write_text(schema_text(), encoding="utf-8")
        written.append(schema)
    return Scaffolded(platform_id, recipe_path, fixtures / platform_id, tuple(written))
