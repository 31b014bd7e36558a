"""Rendering an audit: live progress (rich on a terminal, else plain lines) and the result table."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import click

from unbinder.i18n.translate import N_, _

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

    from unbinder.jobs.audit import AuditEvent, AuditResult, PlatformResult
    from unbinder.jobs.concurrency import Concurrency

STYLES = {
    "bound": "bold red",
    "not_bound": "green",
    "needs_human": "yellow",
    "rate_limited": "yellow",
    "unknown": "magenta",
    "error": "red",
    "manual": "cyan",
    "skipped": "dim",
    "throttled": "dim",
    "waiting": "dim",
    "running": "blue",
    "retrying": "blue",
}
LABELS = {
    "bound": N_("BOUND"),
    "not_bound": N_("not bound"),
    "needs_human": N_("needs a person"),
    "rate_limited": N_("rate limited"),
    "unknown": N_("unknown"),
    "error": N_("recipe error"),
    "manual": N_("manual"),
    "skipped": N_("skipped"),
    "throttled": N_("too soon"),
    "waiting": N_("waiting"),
    "running": N_("running"),
    "retrying": N_("retrying"),
}


def label(state: str, lang: str | None = None) -> str:
    """An outcome or a progress state as a person reads it (in `lang`, else this run's)."""
    from unbinder.i18n.translate import say

    if state not in LABELS:
        return state
    return say(LABELS[state], lang) if lang else _(LABELS[state])


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    from unbinder.cli.options import columns_env

    # Pipes get rich's 80 columns unless COLUMNS says otherwise; tables then wrap, never cut.
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=columns_env())


class Progress:
    """One line per platform: waiting / running / outcome. Plain lines when not a terminal.

    Given a `concurrency` (verbose), it also shows how many platforms are checked at once and
    why: in the live view's heading, or as a plain line whenever the number changes.
    """

    def __init__(
        self,
        names: dict[str, str],
        *,
        quiet: bool = False,
        concurrency: Concurrency | None = None,
    ) -> None:
        self.names = names
        self.concurrency = concurrency
        self.states: dict[str, str] = dict.fromkeys(names, "waiting")
        self.quiet = quiet
        self.done = 0
        self.total = len(names)
        self.err = console(stderr=True)
        self.live: Live | None = None
        self.interactive = self.err.is_terminal and not quiet

    def __enter__(self) -> Progress:
        if self.interactive:
            from rich.live import Live

            self.live = Live(self._render(), console=self.err, refresh_per_second=8, transient=True)
            self.live.__enter__()
        if self.concurrency is not None:
            self.concurrency_changed(self.concurrency.limit, self.concurrency.reason)
            self.concurrency.on_change(self.concurrency_changed)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)
            self.live = None

    def __call__(self, event: AuditEvent) -> None:
        state = event.result.status if event.result is not None else event.state
        if event.state == "retrying":
            state = "retrying"
        self.states[event.platform] = state
        if event.state == "done":
            self.done += 1
            if not self.interactive and not self.quiet:
                click.echo(
                    f"[{self.done}/{self.total}] {self.names[event.platform]}: {label(state)}",
                    err=True,
                )
        if self.live is not None:
            self.live.update(self._render())

    def concurrency_changed(self, limit: int, reason: str) -> None:
        """Verbose: the number of platforms at once changed (or is shown for the first time)."""
        if self.live is not None:
            self.live.update(self._render())
        elif not self.quiet:
            click.echo(_("{limit} at once ({reason})").format(limit=limit, reason=reason), err=True)

    def _render(self) -> Any:
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        heading = _("[bold]Checking {total} platforms[/] ({done} done)").format(
            total=self.total, done=self.done
        )
        if self.concurrency is not None:
            heading += _(", {limit} at once [dim]({reason})[/]").format(
                limit=self.concurrency.limit, reason=self.concurrency.reason
            )
        table.add_row(heading, "")
        for pid, state in self.states.items():
            table.add_row(f"  {self.names[pid]}", f"[{STYLES.get(state, '')}]{label(state)}[/]")
        return table


_ADDRESS = re.compile(r"https?://[^\s)”\"']+")


def short_addresses(text: str) -> str:
    """`text` with each web address cut to its host and path (`?…` where a query was): the
    table is read, not copied from; the report and the JSON keep the address whole."""

    from unbinder.browser.guard import without_query

    def cut(found: re.Match[str]) -> str:
        address = found.group(0)
        kept = address.rstrip(",.;:")  # a sentence's punctuation after the address
        return without_query(kept) + address[len(kept) :]

    return _ADDRESS.sub(cut, text)


def result_table(result: AuditResult, lang: str = "en") -> None:
    """The table at the end, most urgent first: platform, outcome, evidence, what to do next;
    then the coverage, the platforms that need the person by name, and the commands to copy.

    Commands never sit in a table cell, where a narrow terminal would break them: the cell
    names them by number and they follow the table whole, one per line.
    """
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from unbinder.i18n.words import say

    out = console()
    table = Table(
        title=say("audit_title", lang, number=result.phone.masked),
        box=box.SIMPLE_HEAD,
        expand=False,
        pad_edge=False,
    )
    table.add_column(say("col_platform", lang), overflow="fold", ratio=2)
    table.add_column(say("col_outcome", lang), overflow="fold", ratio=1)
    table.add_column(say("col_evidence", lang), overflow="fold", ratio=3)
    table.add_column(say("col_next", lang), overflow="fold", ratio=3)
    commands: list[str] = []
    for item in result.by_urgency():
        advice = item.advice(lang)
        if advice.command:
            commands.append(advice.command)
            next_text = advice.text(f"[{len(commands)}]")
        else:
            next_text = advice.text()
        table.add_row(
            _platform_cell(item, lang),
            f"[{STYLES.get(item.status, '')}]{label(item.status, lang)}[/]"
            + (f"\n[dim]{say('by_login', lang)}[/]" if item.via == "login" else ""),
            escape(short_addresses(item.evidence_summary(lang))),
            escape(next_text),
        )
    out.print(table)
    out.print(coverage_line(result, lang))
    for line in named_lines(result, lang):
        out.print(line, markup=False)
    offline = offline_line(result, lang)
    if offline is not None:
        out.print(f"[yellow]{escape(offline)}[/]")
    if result.interrupted:
        out.print(f"[yellow]{escape(say('audit_interrupted', lang))}[/]")
    if commands:
        out.print()
        out.print(say("commands_heading", lang), markup=False)
        for number, line in enumerate(commands, start=1):
            # soft_wrap: printed whole; a terminal narrower than the command folds it itself
            out.print(f"  [{number}] {line}", markup=False, soft_wrap=True)


def named_lines(result: AuditResult, lang: str = "en") -> list[str]:
    """The platforms a person must act on, by name: still bound, needing them, without an
    answer (one line each, only those that have any)."""
    from unbinder.i18n.words import say
    from unbinder.vocab import NEEDS_PERSON, NO_ANSWER

    comma = "、" if lang.startswith("zh") else ", "
    lines = []
    for key, statuses in (
        ("named_bound", ("bound",)),
        ("named_person", NEEDS_PERSON),
        ("named_no_answer", NO_ANSWER),
    ):
        names = result.named(statuses, lang)
        if names:
            lines.append(say(key, lang, count=len(names), names=comma.join(names)))
    return lines


def _platform_cell(item: PlatformResult, lang: str) -> str:
    """The platform's name, with its recipe's status and confidence when it is not plainly good."""
    from unbinder.recipe.catalog import word

    recipe = item.recipe.recipe
    name = recipe.name.get(lang)
    confidence = recipe.sourcing().confidence
    notes = [word("statuses", recipe.status, lang)] if recipe.status != "working" else []
    if confidence != "sourced" and not recipe.demo:
        notes.append(word("confidence", confidence, lang))
    return name + (f" [dim]({', '.join(notes)})[/]" if notes else "")


def coverage_line(result: AuditResult, lang: str = "en") -> str:
    """How honest the audit is: answered, no answer, needing a person, manual, skipped."""
    from unbinder.i18n.words import say

    s = result.summary()
    key = "coverage_one" if s["platforms"] == 1 else "coverage"
    return say(
        key,
        lang,
        platforms=s["platforms"],
        checked=s["checked_automatically"],
        bound=s.get("status_bound", 0),
        no_answer=s["no_answer"],
        person=s["need_a_person"],
        manual=s["manual"],
        skipped=s["skipped"],
    )


def offline_line(result: AuditResult, lang: str = "en") -> str | None:
    """One line when most platforms failed on the network: this machine looks offline."""
    from unbinder.i18n.words import say

    if not result.looks_offline:
        return None
    return say("looks_offline", lang, count=result.summary()["network"])
