"""The built-in demo: the whole job, offline, on made-up platforms and a made-up number.

`run_demo` does what a person does with unbinder, in a throwaway data directory with its own
trail: audit the number on the demo platforms (their replicas answer every request), change
the binding on one of them with a scripted human playing the person's part, audit that platform
again to show the new state (the same Replica instances, so the change persists), verify the
trail and write the evidence report. Its data (number, platforms, scenarios, which change)
lives in `fixtures/demo.yaml`. Rendering is the caller's: a `DemoView` receives each stage.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from unbinder.errors import RecipeError
from unbinder.i18n.translate import _
from unbinder.paths import Paths, fixtures_dir

if TYPE_CHECKING:
    from unbinder.browser.launch import BrowserSession
    from unbinder.browser.replica import Replica
    from unbinder.jobs.audit import AuditEvent, AuditResult
    from unbinder.jobs.unbind import ActionResult
    from unbinder.phone import PhoneNumber
    from unbinder.recipe.load import LoadedRecipe
    from unbinder.recipe.model import HumanScript
    from unbinder.trail import Trail, VerifyReport

DEMO_FILE = "demo.yaml"
REPORT_NAME = "report.html"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DemoChange(_Model):
    """The one change the demo makes, and the recipe test whose `human:` script plays the person."""

    platform: str
    mode: Literal["change", "unbind"] = "change"
    new_phone: str | None = None
    human_from_test: str = Field(description="name of the recipe's embedded test to take it from")


class DemoPlan(_Model):
    """`fixtures/demo.yaml`."""

    phone: str
    platforms: list[str] = Field(min_length=1)
    scenarios: dict[str, str] = Field(default_factory=dict)
    allow_side_effects: bool = False
    unbind: DemoChange | None = None


def load_plan(path: Path | None = None) -> DemoPlan:
    path = path or fixtures_dir() / DEMO_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return DemoPlan.model_validate(data)
    except OSError as exc:
        raise RecipeError(
            _("cannot read the demo data {path}: {value}.").format(
                path=path, value=exc.strerror or exc
            ),
            hint=_("Run the demo from a source checkout (it needs fixtures/)."),
        ) from exc
    except (yaml.YAMLError, ValidationError) as exc:
        first = str(exc).strip().splitlines()
        raise RecipeError(f"{path}: {first[0] if first else exc}") from exc


@dataclass(frozen=True)
class DemoHome:
    """The throwaway data directory and the trail passphrase made for one demo."""

    paths: Paths
    passphrase: str

    @classmethod
    def create(cls) -> DemoHome:
        home = Path(tempfile.mkdtemp(prefix="unbinder-demo-"))  # 0700, in the system temp dir
        return cls(Paths(home), f"demo-{secrets.token_hex(6)}")

    @property
    def report_path(self) -> Path:
        return self.paths.home / REPORT_NAME


class DemoView(Protocol):
    """What the demo shows as it goes (the CLI renders it)."""

    def stage(self, number: int, what: str) -> None:
        """A stage begins: 1 audit, 2 change, 3 audit again, 4 verify and report."""

    def progress(
        self, names: dict[str, str]
    ) -> AbstractContextManager[Callable[[AuditEvent], None]]:
        """Live progress of an audit over these platforms (id -> name)."""
        ...

    def audit_done(self, result: AuditResult) -> None: ...

    def change_done(self, result: ActionResult) -> None: ...


@dataclass
class DemoResult:
    """Everything the demo did, for the caller to render (and tests to check)."""

    home: DemoHome
    phone: PhoneNumber
    audit: AuditResult
    change: ActionResult | None
    reaudit: AuditResult | None
    verification: VerifyReport
    head: tuple[int, str]
    report: Path
    seconds: float


@dataclass
class _Demo:
    plan: DemoPlan
    home: DemoHome
    view: DemoView
    lang: str
    recipes: dict[str, LoadedRecipe]
    replicas: dict[str, Replica]

    def replica(self, loaded: LoadedRecipe) -> Replica:
        """Each platform's one replica, loaded when first asked for (manual ones have none)."""
        from unbinder.browser.replica import Replica

        if loaded.id not in self.replicas:
            scenario = self.plan.scenarios.get(loaded.id, "default")
            self.replicas[loaded.id] = Replica.load(loaded.id, scenario)
        return self.replicas[loaded.id]

    async def audit(
        self, session: BrowserSession, trail: Trail, phone: PhoneNumber, ids: list[str]
    ) -> AuditResult:
        from unbinder.jobs.audit import AuditOptions, audit_number

        chosen = [self.recipes[i] for i in ids]
        options = AuditOptions(allow_side_effects=self.plan.allow_side_effects, lang=self.lang)
        names = {r.id: r.recipe.name.get(self.lang) for r in chosen}
        with self.view.progress(names) as progress:
            run = await audit_number(
                phone,
                chosen,
                options=options,
                trail=trail,
                fixtures=True,
                session=session,
                replicas=self.replica,
                on_event=progress,
            )
        if run.unrecorded is not None:
            raise run.unrecorded
        self.view.audit_done(run.result)
        return run.result

    async def change(
        self, session: BrowserSession, trail: Trail, phone: PhoneNumber, spec: DemoChange
    ) -> ActionResult:
        """The scripted change, through the unbind library, on the audit's own replica."""
        from unbinder.engine.human import ScriptedHuman
        from unbinder.jobs.unbind import run_unbind, start_unbind_run
        from unbinder.phone import parse_phone

        loaded = self.recipes[spec.platform]
        human = ScriptedHuman(_human_script(loaded, spec.human_from_test), lang=self.lang)
        new = parse_phone(spec.new_phone) if spec.new_phone else None
        with start_unbind_run(
            trail, loaded, phone, new_phone=new, mode=spec.mode, dry_run=False, fixtures=True
        ) as run:
            result = await run_unbind(
                loaded,
                phone,
                human=human,
                session=session,
                new_phone=new,
                mode=spec.mode,
                replica=self.replica(loaded),
                run=run,
                lang=self.lang,
            )
        self.view.change_done(result)
        return result


def _human_script(loaded: LoadedRecipe, test_name: str) -> HumanScript:
    """The `human:` script of the recipe's embedded test called `test_name`."""
    for test in loaded.recipe.tests:
        if test.name == test_name and test.human is not None:
            return test.human
    raise RecipeError(
        _("{path}: no test named {test_name!r} with a human script for the demo.").format(
            path=loaded.path, test_name=test_name
        ),
        hint=_("Fix `unbind.human_from_test` in fixtures/demo.yaml."),
    )


def run_demo(
    view: DemoView,
    *,
    plan: DemoPlan | None = None,
    home: DemoHome | None = None,
    lang: str = "en",
) -> DemoResult:
    """Run the demo in a new throwaway data directory (or `home`); see the module docstring."""
    import asyncio

    from unbinder import redact
    from unbinder.browser.launch import BrowserSession
    from unbinder.jobs.report import build_report, render_html, write_report
    from unbinder.phone import parse_phone
    from unbinder.recipe.load import find_recipe
    from unbinder.trail import Trail

    began = time.monotonic()
    plan = plan or load_plan()
    home = home or DemoHome.create()
    phone = parse_phone(plan.phone)
    redact.register(phone)
    recipes = {i: find_recipe(i) for i in plan.platforms}
    not_demo = [i for i, r in recipes.items() if not r.recipe.demo]
    if not_demo:
        raise RecipeError(
            _("the demo may use only demo platforms, not {value}.").format(
                value=", ".join(not_demo)
            )
        )
    demo = _Demo(plan, home, view, lang, recipes, {})
    home.paths.ensure()
    # No anchor: the demo's throwaway trail must never move the person's real one.
    trail = Trail.create(home.paths.trail_dir, home.passphrase, anchor=None)

    async def go() -> tuple[AuditResult, ActionResult | None, AuditResult | None]:
        async with BrowserSession(headless=True) as session:
            view.stage(1, "audit")
            first = await demo.audit(session, trail, phone, list(plan.platforms))
            if plan.unbind is None:
                return first, None, None
            view.stage(2, "change")
            change = await demo.change(session, trail, phone, plan.unbind)
            view.stage(3, "audit again")
            again = await demo.audit(session, trail, phone, [plan.unbind.platform])
            return first, change, again

    with trail:
        audit, change, reaudit = asyncio.run(go())
        view.stage(4, "verify and report")
        verification = trail.verify()
        head = trail.head()
        doc = build_report(trail, lang=lang)
    write_report(home.report_path, render_html(doc))
    return DemoResult(
        home=home,
        phone=phone,
        audit=audit,
        change=change,
        reaudit=reaudit,
        verification=verification,
        head=head,
        report=home.report_path,
        seconds=time.monotonic() - began,
    )
