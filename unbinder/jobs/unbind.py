"""Move a phone binding to a new number, or remove it, on one platform, with the user's own login.

`run_unbind` opens one guarded browser context and runs the recipe's `change` or `unbind` flow
in it (logins, SMS codes and captchas are handed to a `Human`; every destructive click waits for
an explicit yes). The engine runs the `verify` flow in the same page before the steps (what the
platform shows: a number that cannot be the one given stops it, a mask mismatch) and after them
(the read-back). The result comes from what verify reads, never from the flow alone
(promise 3): `changed`, `unbound`, `not_done` (with the reason), `needs_human` or `error`.

Everything is recorded in the trail run it is given: the start, each hand-off (what was asked,
never what was typed), each confirmation (asked, answered), the flow and verify outcomes, the
screenshots (encrypted blobs) and the result.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unbinder import redact
from unbinder.engine.human import ConfirmRequest, Handoff, Human, StepRunner
from unbinder.errors import BadInput
from unbinder.i18n.translate import _
from unbinder.phone import PhoneNumber, masked_matches
from unbinder.recipe.model import Step
from unbinder.vocab import UNBIND_MODES, UnbindMode, UnbindResult

if TYPE_CHECKING:
    from playwright.async_api import Page

    from unbinder.browser.launch import BrowserSession
    from unbinder.browser.replica import Replica
    from unbinder.engine import Outcome
    from unbinder.jobs.sessions import SessionStore
    from unbinder.paths import Paths
    from unbinder.recipe.load import LoadedRecipe
    from unbinder.trail import Run, Trail

# The `what` of the trail's action records an unbind run writes (the report reads them).
START = "start"
HANDOFF = "handoff"
CONFIRM_ASKED = "confirm_asked"
CONFIRM_ANSWERED = "confirm_answered"
FLOW_ENDED = "flow_ended"
SESSION_KEPT = "session_kept"
SESSION_WIPED = "session_wiped"


class NoWebFlow(BadInput):
    """The platform offers no way to do this on the web (app-only): the user does it by hand."""

    def __init__(self, message: str, *, hint: str | None = None, steps: list[str]) -> None:
        super().__init__(message, hint=hint)
        self.steps = steps


@dataclass(frozen=True)
class HandoffNote:
    """A hand-off as recorded: what kind of step, and what the person was asked."""

    kind: str
    prompt: str


@dataclass(frozen=True)
class ConfirmationNote:
    """A confirmation as recorded: what was about to happen, and the answer."""

    action: str
    answer: bool


@dataclass(frozen=True)
class ActionResult:
    """What one change or unbind came to, as verified on the platform."""

    platform: str
    mode: UnbindMode
    status: UnbindResult
    reason: str | None = None  # in words: why not done, what verify saw
    # dry_run, declined, mask_mismatch, wrong_code, still_old, unverified, flow_failed...
    reason_code: str | None = None
    dry_run: bool = False
    old_masked: str = ""
    new_masked: str | None = None
    bound_number: str | None = None  # what verify read, as the platform masks it
    shown_before: str | None = None  # what the platform showed before the steps, masked by it
    flow: Outcome | None = None
    verify: Outcome | None = None
    handoffs: tuple[HandoffNote, ...] = ()
    confirmations: tuple[ConfirmationNote, ...] = ()
    blobs: tuple[str, ...] = ()  # the trail blob ids of the screenshots
    session: str = "not kept"  # "kept" when --keep-session saved it

    @property
    def ok(self) -> bool:
        """Did it end as asked (a dry run that stopped where it should counts)?"""
        return self.status in ("changed", "unbound") or self.reason_code == "dry_run"

    def to_dict(self) -> dict[str, Any]:
        """The trail's `result` payload (JSON-able; numbers masked)."""
        return {
            "status": self.status,
            "mode": self.mode,
            "reason": self.reason,
            "reason_code": self.reason_code,
            "dry_run": self.dry_run,
            "old_masked": self.old_masked,
            "new_masked": self.new_masked,
            "bound_number": self.bound_number,
            "shown_before": self.shown_before,
            "flow_status": self.flow.status if self.flow else None,
            "verify_status": self.verify.status if self.verify else None,
            "handoffs": [{"kind": h.kind, "prompt": h.prompt} for h in self.handoffs],
            "confirmations": [
                {"action": c.action, "answer": "yes" if c.answer else "no"}
                for c in self.confirmations
            ],
            "screenshots": list(self.blobs),
            "session": self.session,
            "by": "tool",
        }


class Recorder:
    """Writes one platform's records into a trail run (or nowhere, with --no-trail)."""

    def __init__(self, run: Run | None, platform: str) -> None:
        self.run = run
        self.platform = platform

    def action(self, what: str, *, by: str = "tool", details: dict[str, Any] | None = None) -> None:
        if self.run is not None:
            self.run.action(self.platform, what, by=by, details=details or {})

    def finding(self, outcome: dict[str, Any]) -> None:
        if self.run is not None:
            self.run.finding(self.platform, outcome)

    def result(self, result: dict[str, Any]) -> None:
        if self.run is not None:
            self.run.result(self.platform, result)

    def evidence(self, outcome: Outcome) -> tuple[dict[str, Any], list[str]]:
        """The outcome as a trail payload, its screenshots stored first (as blobs) and listed
        with the address of their page, as an audit's finding lists them (report captions)."""
        from unbinder.jobs.report import address

        doc = outcome.to_dict()
        ids = self.screenshots(outcome)
        if ids:
            doc["screenshots"] = [
                {"name": shot.name, "url": address(shot.url), "blob": blob}
                for shot, blob in zip(outcome.screenshots, ids, strict=True)
            ]
        return doc, ids

    def finding_with_screenshots(self, outcome: Outcome) -> list[str]:
        """Record `outcome` as a finding with its screenshots; return the blob ids."""
        doc, ids = self.evidence(outcome)
        self.finding(doc)
        return ids

    def screenshots(self, outcome: Outcome) -> list[str]:
        """Store the outcome's screenshots as encrypted blobs; return their ids."""
        if self.run is None:
            return []
        return [
            self.run.blob(
                shot.png,
                media_type="image/png",
                platform=self.platform,
                name=f"{outcome.flow}:{shot.name}",
            )
            for shot in outcome.screenshots
        ]


@dataclass
class RecordingHuman:
    """A Human that records each hand-off and confirmation before passing it on.

    It records what was asked (kind and prompt) and the yes or no, never what the person typed:
    that goes into the page, where nothing of ours reads it.
    """

    inner: Human
    recorder: Recorder
    lang: str = ""
    handoffs: list[HandoffNote] = field(default_factory=list)
    confirmations: list[ConfirmationNote] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lang = self.lang or self.inner.lang

    async def handoff(self, request: Handoff, page: Page, run_steps: StepRunner) -> None:
        note = HandoffNote(request.kind, request.prompt.en)
        self.handoffs.append(note)
        self.recorder.action(HANDOFF, by="user", details={"kind": note.kind, "prompt": note.prompt})
        await self.inner.handoff(request, page, run_steps)

    async def confirm(self, request: ConfirmRequest) -> bool:
        self.recorder.action(
            CONFIRM_ASKED,
            details={
                "action": request.action.en,
                "old": request.old_masked,
                "new": request.new_masked,
                "shown": request.shown,
            },
        )
        answer = await self.inner.confirm(request)
        self.confirmations.append(ConfirmationNote(request.action.en, answer))
        self.recorder.action(
            CONFIRM_ANSWERED, by="user", details={"answer": "yes" if answer else "no"}
        )
        return answer

    def scripted_steps(self) -> list[Step]:
        return self.inner.scripted_steps()


def resolve_mode(
    given: str | None, new_phone: PhoneNumber | None, phone: PhoneNumber
) -> UnbindMode:
    """`change` when a new number is given, else `unbind`; refuse what makes no sense."""
    wanted = given or ("change" if new_phone is not None else "unbind")
    mode = next((m for m in UNBIND_MODES if m == wanted), None)
    if mode is None:
        raise BadInput(
            _("unknown mode {wanted!r}.").format(wanted=wanted),
            hint=_("Use --mode change or --mode unbind."),
        )
    if mode == "change" and new_phone is None:
        raise BadInput(
            _("changing the number needs the new one."),
            hint=_("Pass --new-phone NEW, or --mode unbind to remove the number instead."),
        )
    if mode == "unbind" and new_phone is not None:
        raise BadInput(
            _("--new-phone goes with --mode change, not --mode unbind."),
            hint=_("Drop --new-phone to remove the number, or use --mode change."),
        )
    if new_phone is not None and new_phone.e164 == phone.e164:
        raise BadInput(
            _("the new number is the old number."), hint=_("Give the number you move to.")
        )
    return mode


def check_flows(loaded: LoadedRecipe, mode: UnbindMode, lang: str = "en") -> None:
    """Raise NoWebFlow (with the manual steps) when the recipe cannot do `mode` in a browser."""
    flows = loaded.recipe.flows
    if getattr(flows, mode) is not None:
        return
    manual = flows.manual
    if mode == "unbind" and flows.no_unbind is not None:
        # Not "do it by hand": the platform cannot do it at all. Say what can be done instead.
        name = loaded.recipe.name.get(lang)
        change = (
            f"unbinder unbind {loaded.id} --phone OLD --new-phone NEW"
            if flows.change is not None
            else "by hand (below), then: unbinder mark "
            f"{loaded.id} --phone OLD --new-phone NEW --status changed"
        )
        by_hand = manual.steps.get(lang) if manual is not None and flows.change is None else []
        raise NoWebFlow(
            _("{name} offers no way to remove a number from an account ({value}).").format(
                name=name, value=flows.no_unbind.why.get(lang).rstrip(".")
            ),
            hint=_(
                "Change it to a number you keep instead: {change}; or close the account."
            ).format(change=change),
            steps=by_hand,
        )
    why = manual.why.get(lang) if manual is not None and manual.why is not None else None
    steps = manual.steps.get(lang) if manual is not None else []
    action = "change the number" if mode == "change" else "remove the number"
    raise NoWebFlow(
        f"{loaded.recipe.name.get(lang)} offers no way to {action} in a browser"
        + (f" ({why.rstrip('.')})." if why else "."),
        hint=f"Do it by hand, then record it: unbinder mark {loaded.id} --phone OLD --status "
        + ("changed" if mode == "change" else "unbound")
        + ".",
        steps=list(steps),
    )


async def run_unbind(
    loaded: LoadedRecipe,
    phone: PhoneNumber,
    *,
    human: Human,
    session: BrowserSession,
    new_phone: PhoneNumber | None = None,
    mode: str | None = None,
    dry_run: bool = False,
    replica: Replica | None = None,
    run: Run | None = None,
    sessions: SessionStore | None = None,
    keep_session: bool = False,
    lang: str = "en",
    dry_run_sends: bool = False,
) -> ActionResult:
    """Change or remove `phone`'s binding on `loaded`'s platform, then verify it.

    `replica` (fixture mode) answers every request offline; pass the same Replica instance to an
    audit before and after to see its state change. `run` is the trail run to record into (None:
    nothing is recorded). `sessions` loads a kept login into the context and, at the end, keeps
    it (`keep_session`) or wipes it. A dry run stops before the first step that sends an SMS or
    email; with `dry_run_sends`, before the first irreversible one.
    """
    from unbinder.engine import context_locale, run_flow

    mode = resolve_mode(mode, new_phone, phone)
    check_flows(loaded, mode, lang)
    for number in (phone, new_phone):
        if number is not None:
            redact.register(number)
    platform = loaded.id
    recorder = Recorder(run, platform)
    recording = RecordingHuman(human, recorder)
    kept_state = sessions.load(platform) if sessions is not None else None
    recorder.action(
        START,
        details={
            "mode": mode,
            "dry_run": dry_run,
            "fixtures": replica is not None,
            "scenario": replica.scenario_name if replica is not None else None,
            "session": "kept session" if kept_state is not None else "fresh",
        },
    )
    blobs: list[str] = []
    verify: Outcome | None = None
    session_note = "not kept"
    context = await session.open_context(
        loaded.recipe.domains,
        serve=replica.serve if replica is not None else None,
        locale=context_locale(loaded),
        storage_state=kept_state,
    )
    try:
        flow = await run_flow(
            session,
            loaded,
            mode,
            phone,
            new_phone=new_phone,
            human=recording,
            replica=replica,
            dry_run=dry_run,
            lang=lang,
            context=context,
            dry_run_sends=dry_run_sends,
        )
        if flow.before is not None:
            blobs += recorder.finding_with_screenshots(flow.before)
        doc, shots = recorder.evidence(flow)
        recorder.action(FLOW_ENDED, details=doc)
        blobs += shots
        verify = flow.readback
        if verify is not None:
            blobs += recorder.finding_with_screenshots(verify)
        said_yes = any(c.answer for c in recording.confirmations)
        # Verify whenever something may have changed and the flow did not read it back itself:
        # a yes let a destructive click through before something else went wrong.
        if loaded.recipe.flows.verify is not None and verify is None and said_yes:
            verify = await run_flow(
                session,
                loaded,
                "verify",
                phone,
                new_phone=new_phone,
                human=recording,
                replica=replica,
                lang=lang,
                context=context,
            )
            blobs += recorder.finding_with_screenshots(verify)
        if sessions is not None and keep_session:
            state = await context.context.storage_state()
            sessions.save(platform, dict(state))
            session_note = "kept"
            recorder.action(SESSION_KEPT)
    finally:
        await context.close()
        if sessions is not None and not keep_session and sessions.wipe(platform):
            recorder.action(SESSION_WIPED)
    status, reason, code = decide(
        mode, flow, verify, old=phone, new=new_phone, human=recording, dry_run=dry_run
    )
    result = ActionResult(
        platform=platform,
        mode=mode,
        status=status,
        reason=redact.redact(reason) if reason else None,
        reason_code=code,
        dry_run=dry_run,
        old_masked=phone.masked,
        new_masked=new_phone.masked if new_phone else None,
        bound_number=verify.variables.get("bound_number") if verify is not None else None,
        shown_before=flow.before.variables.get("bound_number") if flow.before else None,
        flow=flow,
        verify=verify,
        handoffs=tuple(recording.handoffs),
        confirmations=tuple(recording.confirmations),
        blobs=tuple(blobs),
        session=session_note,
    )
    recorder.result(result.to_dict())
    return result


def decide(
    mode: UnbindMode,
    flow: Outcome,
    verify: Outcome | None,
    *,
    old: PhoneNumber,
    new: PhoneNumber | None,
    human: RecordingHuman,
    dry_run: bool = False,
) -> tuple[UnbindResult, str | None, str | None]:
    """(status, reason, reason code) from the flow's outcome and what verify read."""
    shown_before = flow.before.variables.get("bound_number") if flow.before else None
    if shown_before and flow.status == "not_done" and not masked_matches(shown_before, old):
        # The account shows a number that cannot be the one given: nothing was sent or changed.
        return "not_done", flow.reason, "mask_mismatch"
    if verify is None:
        if flow.status == "not_done":
            if dry_run and (flow.reason or "").startswith("dry run"):
                return "not_done", flow.reason, "dry_run"
            if any(not c.answer for c in human.confirmations):
                return "not_done", "you declined the confirmation; nothing was changed", "declined"
            if flow.kind == "sms_code":
                return "not_done", flow.reason or flow.summary(), "wrong_code"
            if flow.before is not None and flow.before.status == "not_bound":
                return "not_done", flow.reason, "nothing_bound"
            if (flow.reason or "").startswith("refused"):
                return "not_done", flow.reason, "no_unbind"
            return "not_done", flow.reason or flow.summary() or None, "not_confirmed"
        if flow.status == "needs_human":
            what = flow.reason or flow.summary() or f"a {flow.kind or 'human'} step"
            return "needs_human", f"{flow.kind or 'a person'}: {what}", flow.kind
        if flow.status == "done":
            return (
                "needs_human",
                "the flow ran, but the recipe has no verify flow to confirm it: check on the "
                "platform, then record it with `unbinder mark`",
                "unverified",
            )
        return "error", flow.summary() or f"the flow ended {flow.status}", "flow_failed"
    # The flow ran to its read-back (flow.readback), or failed after a yes and verify ran.
    ran_to_end = flow.readback is not None or flow.status == "done"
    flow_trouble = None if ran_to_end else (flow.summary() or flow.status)
    shown = verify.variables.get("bound_number") or ""
    if verify.status == "bound" and shown:
        fits_old = masked_matches(shown, old)
        fits_new = new is not None and masked_matches(shown, new)
        if mode == "change" and fits_new and not fits_old:
            return "changed", f"the platform now shows {shown}", None
        if fits_new and fits_old:
            return (
                "needs_human",
                f"the platform shows {shown}, which fits both numbers: check by hand, then record "
                "it with `unbinder mark`",
                "ambiguous",
            )
        if fits_old:
            if flow.status == "not_done" and flow.kind == "sms_code":
                return "not_done", flow.reason or flow.summary(), "wrong_code"
            if flow.status == "not_done" and flow.reason:
                # The platform itself said "not yet" (e.g. QQ's waiting period): not a failure.
                return (
                    "not_done",
                    f"{flow.reason}; the platform still shows {shown}",
                    "platform_wait",
                )
            if flow.status == "not_done" and flow.evidence is not None:
                # A rule of the flow saw the platform refuse ("belongs to another account").
                return (
                    "not_done",
                    f"{flow.summary()}; the platform still shows {shown}",
                    "platform_refused",
                )
            if flow_trouble:
                return (
                    "error",
                    f"{flow_trouble}; the platform still shows the old number ({shown})",
                    "flow_failed",
                )
            return "not_done", f"the platform still shows the old number ({shown})", "still_old"
        return (
            "needs_human",
            f"the platform shows {shown}, which is neither number: check by hand",
            "unexpected_number",
        )
    if verify.status == "not_bound":
        if mode == "unbind":
            return "unbound", "the platform shows no number bound any more", None
        return (
            "needs_human",
            "the platform shows no number at all after the change: check by hand",
            "no_number",
        )
    seen = verify.summary() or verify.status
    return (
        "needs_human",
        f"the flow ran, but verify could not confirm it ({verify.status}: {seen}): check on the "
        "platform, then record it with `unbinder mark`",
        "unverified",
    )


def start_unbind_run(
    trail: Trail,
    loaded: LoadedRecipe,
    phone: PhoneNumber,
    *,
    new_phone: PhoneNumber | None,
    mode: UnbindMode,
    dry_run: bool,
    fixtures: bool = False,
) -> Run:
    """The trail run of one `unbinder unbind` (its start record)."""
    return trail.start_run(
        "unbind",
        phone,
        new_phone=new_phone,
        recipes={loaded.id: loaded.digest},
        details={"platform": loaded.id, "mode": mode, "dry_run": dry_run, "fixtures": fixtures},
    )


def unbind_platform(
    loaded: LoadedRecipe,
    phone: PhoneNumber,
    *,
    human: Human,
    paths: Paths,
    trail: Trail | None,
    new_phone: PhoneNumber | None = None,
    mode: str | None = None,
    dry_run: bool = False,
    replica: Replica | None = None,
    keep_session: bool = False,
    headless: bool = False,
    lang: str = "en",
    dry_run_sends: bool = False,
) -> ActionResult:
    """What `unbinder unbind` does: a browser, a trail run, `run_unbind`, the run sealed."""
    from unbinder.browser.launch import BrowserSession
    from unbinder.jobs.sessions import KEY_PURPOSE, SessionStore

    mode = resolve_mode(mode, new_phone, phone)
    check_flows(loaded, mode, lang)
    if keep_session and trail is None:
        raise BadInput(
            _("--keep-session needs the trail: its key encrypts the kept login."),
            hint=_("Drop --no-trail, or drop --keep-session."),
        )
    sessions = (
        SessionStore(paths.sessions_dir, trail.derive_key(KEY_PURPOSE))
        if trail is not None
        else None
    )
    run: Run | None = None

    async def go() -> ActionResult:
        nonlocal run
        async with BrowserSession(headless=headless) as session:
            # The run starts once the browser is up: a browser that cannot start records nothing.
            if trail is not None:
                run = start_unbind_run(
                    trail,
                    loaded,
                    phone,
                    new_phone=new_phone,
                    mode=mode,
                    dry_run=dry_run,
                    fixtures=replica is not None,
                )
            return await run_unbind(
                loaded,
                phone,
                human=human,
                session=session,
                new_phone=new_phone,
                mode=mode,
                dry_run=dry_run,
                replica=replica,
                run=run,
                sessions=sessions,
                keep_session=keep_session,
                lang=lang,
                dry_run_sends=dry_run_sends,
            )

    try:
        result = asyncio.run(go())
    except BaseException as exc:
        if run is not None:
            run.seal(f"stopped: {type(exc).__name__}")
        raise
    if run is not None:
        run.seal("complete")
    return result
