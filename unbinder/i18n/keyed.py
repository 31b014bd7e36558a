"""English texts named by key, for the callers that say `words.say("audit_title", lang, ...)`.

Each text is an English msgid like any other (`N_` marks it for `make i18n`); its translations
are in the gettext catalogs. New code says its English in place, `_("Audit of {number}")`, not a
key; a caller moved to that drops its key here.
"""

from __future__ import annotations

from unbinder.i18n.translate import N_

KEYED: dict[str, str] = {
    "title": N_("Evidence report"),
    "subtitle": N_("What the encrypted unbinder trail records about {numbers}."),
    "generated": N_("Generated {time} by unbinder {version}"),
    "selection_number": N_("All runs of this number ({count})"),
    "selection_run": N_("Run {run} only"),
    "selection_all": N_("Every run in the trail ({count})"),
    "number_masked": N_(
        "Numbers are masked: the trail never stores a number, only its masked form and a "
        "keyed reference."
    ),
    "number_shown": N_(
        "The full number is shown for run(s) {runs} because it was typed in when this "
        "report was made and it matches the keyed reference stored in those runs. The trail "
        "itself holds only the masked form."
    ),
    "number_no_match": N_(
        "The number typed in when this report was made matches no run here, so every number "
        "stays masked."
    ),
    "summary": N_("Summary"),
    "count_platforms": N_("platforms"),
    "count_checked": N_("checked automatically"),
    "count_bound": N_("still bound"),
    "count_changed": N_("changed or removed"),
    "count_not_bound": N_("not bound"),
    "count_todo": N_("still to do"),
    "count_manual": N_("manual (app only)"),
    "status_by_platform": N_("Where {number} stands"),
    "col_platform": N_("platform"),
    "col_state": N_("state"),
    "col_outcome": N_("outcome"),
    "col_evidence": N_("evidence"),
    "col_time": N_("time (UTC)"),
    "col_since": N_("since (UTC)"),
    "col_next": N_("what to do next"),
    "col_run": N_("run"),
    "confirmed": N_("re-checked afterwards: not bound any more"),
    "latest_differs": N_("latest check ({time}): {outcome}"),
    "runs": N_("Runs"),
    "run_title": N_("Run {id}: {kind}"),
    "run_started": N_("started {time} UTC"),
    "run_ended": N_("sealed {time} UTC ({status})"),
    "run_not_sealed": N_("not sealed (interrupted, or still running)"),
    "run_number": N_("number {number}"),
    "run_change": N_("{old} → {new}"),
    "kind_audit": N_("audit"),
    "kind_unbind": N_("change / unbind"),
    "kind_mark": N_("recorded by you"),
    "source_check": N_("check"),
    "source_change": N_("change"),
    "source_unbind": N_("unbind"),
    "source_mark": N_("recorded by you"),
    "steps": N_("Steps"),
    "by_user": N_("you"),
    "by_tool": N_("unbinder"),
    "no_entries": N_("No platform result in this run."),
    "screenshots": N_("Screenshots"),
    "screenshot_caption": N_("{platform}: {name} (run {run}, record #{record})"),
    "screenshot_missing": N_("evidence file {id} could not be shown: {why}"),
    "verification": N_("Trail verification"),
    "verify_ok": N_("Intact: every record, run seal and evidence file checks out."),
    "verify_warnings": N_("Intact, with warnings (see below)."),
    "verify_tampered": N_(
        "TAMPERED: the trail does not check out (see below). Keep a copy of the trail "
        "directory as evidence."
    ),
    "head": N_("Head fingerprint"),
    "head_note": N_(
        "The last record and the start of its chain MAC: `unbinder trail verify` prints the "
        "same head when this report was made from the trail as it stands."
    ),
    "head_mac": N_("Chain MAC of the head"),
    "trail_id": N_("Trail id"),
    "records": N_("Records"),
    "evidence_files": N_("evidence files: {authentic} of {referenced} authentic"),
    "warnings": N_("Warnings"),
    "problems": N_("Problems"),
    "how_to_check": N_("How to check this report"),
    "how_to_check_text": N_(
        "Open the trail with its passphrase and run `unbinder trail verify`. It must say "
        "the trail is intact, and its head must be record #{seq} with a MAC starting "
        "{short} (or later records, if more runs were added since)."
    ),
    "state_bound": N_("still bound"),
    "state_not_bound": N_("not bound"),
    "state_changed": N_("changed"),
    "state_unbound": N_("removed"),
    "state_manual": N_("manual"),
    "state_needs_human": N_("needs a person"),
    "state_rate_limited": N_("rate limited"),
    "state_unknown": N_("unknown"),
    "state_error": N_("recipe error"),
    "state_skipped": N_("skipped"),
    "state_throttled": N_("too soon"),
    "state_not_done": N_("not done"),
    "state_done": N_("done"),
    "next_nothing": N_("Nothing to do."),
    "next_done_changed": N_(
        "Done: the platform shows the new number. Keep this report as evidence."
    ),
    "next_done_unbound": N_("Done: the number was removed. Keep this report as evidence."),
    "next_unbind": N_("Move or remove it: {command}"),
    "next_by_hand": N_("Change it by hand ({steps}), then record it: {command}"),
    "next_manual": N_("In the app: {steps}. Then record it: {command}"),
    "next_needs_human": N_("Solve the check yourself: {command}"),
    "next_rate_limited": N_("The platform asked to slow down: check again later."),
    "next_unknown": N_("Check by hand ({command}), or check again later."),
    "next_error": N_("The recipe no longer fits the page: check by hand ({command})."),
    "next_skipped": N_(
        "This check texts the number or notifies its owner. If you accept that: {command}"
    ),
    "next_throttled": N_("Checked recently: wait for the platform's minimum interval."),
    "next_not_done": N_("Not changed yet. Try again: {command}"),
    "step_start": N_("started ({mode})"),
    "step_start_dry": N_("started ({mode}, dry run)"),
    "step_handoff": N_("handed over to you: {kind}: {prompt}"),
    "step_confirm_asked": N_("asked for confirmation: {action} ({numbers})"),
    "step_confirm_answered": N_("you answered: {answer}"),
    "step_flow_ended": N_("flow ended: {status}{summary}"),
    "step_verify": N_("read back from the platform: {status}{summary}"),
    "verify_bound": N_("a number is bound"),
    "verify_not_bound": N_("no number is bound"),
    "step_session_kept": N_("login kept (encrypted)"),
    "step_session_wiped": N_("login wiped"),
    "step_marked": N_("you recorded: {status}{note}"),
    "step_result": N_("result: {status}{reason}"),
    "step_other": N_("{what}"),
    "shows": N_("the platform shows {shown}"),
    "print_hint": N_("Print this page (Ctrl+P) to hand it over; screenshots are inside the page."),
    "footer": N_(
        "Made offline by unbinder from an encrypted, hash-chained local trail. This page "
        "loads nothing from the network."
    ),
    "coverage": N_(
        "{platforms} platforms: {checked} checked automatically ({bound} bound), "
        "{no_answer} without an answer, {person} need a person, {manual} manual, {skipped} "
        "skipped."
    ),
    "coverage_one": N_(
        "{platforms} platform: {checked} checked automatically ({bound} bound), {no_answer} "
        "without an answer, {person} need a person, {manual} manual, {skipped} skipped."
    ),
    "looks_offline": N_(
        "{count} platforms could not be reached at all (no name lookup, no connection): "
        "this machine looks offline. Connect to the internet and run the audit again; "
        "nothing was counted as checked."
    ),
    "recheck_warning": N_(
        "--recheck: checking again inside a platform's minimum interval can get the number "
        "flagged or rate limited by the platform, and its owner may notice the lookups."
    ),
    "region_from_locale": N_(
        "Reading the number as a {region} number (from your locale); add --region to say otherwise."
    ),
    "recovery_code": N_(
        "Your recovery code (shown only now):\n\n    {code}\n\nWrite it down and keep it "
        "somewhere safe, away from this computer. The passphrase cannot be\nrecovered: if "
        "you forget it, this code is the only way to open the trail again (its "
        "evidence\nand kept logins). Use it in place of the passphrase, or run `unbinder "
        "trail passwd` with it\nto choose a new one."
    ),
    "login_ask": N_("Log in to {name} in the browser to check it? (no: skip it)"),
    "by_login": N_("by login"),
    "count_checked_by_login": N_("of them by login"),
    "recipe_was": N_("recipe: {words}"),
    "changing_it": N_("changing the number: {difficulty}"),
    "appendix": N_("Appendix: screenshots"),
    "appendix_screen": N_(
        "Each screenshot is captioned with its page's address (without the query) and the "
        "time it was taken. Click one to see it at full size; click again to shrink it."
    ),
    "appendix_print": N_(
        "Printed full width: the screenshots behind the platforms still bound and the "
        "changes made. The others are listed by their captions; every one of them is in the "
        "page file."
    ),
    "print_all_shots": N_("When printing, print every screenshot full width (more pages)"),
    "enlarge": N_("Click to enlarge or shrink"),
    "address_unknown": N_("address not recorded"),
    "shot_taken": N_("taken {time} UTC, run {run}"),
    "kind_deadline": N_("cancellation date"),
    "until_report": N_("The number is to be cancelled on {date} (set in run {run})."),
    "deadline_set": N_("The number is to be cancelled on {date}."),
    "deadline_cleared": N_("The cancellation date was cleared."),
    "runs_print": N_(
        "Each platform's deciding evidence is printed once, in the table above; here each "
        "run lists what it saw, where and when."
    ),
    "status_title": N_("Where {number} stands"),
    "status_from": N_(
        "From {runs} run(s) of the trail, the last at {time} UTC; trail {verification}."
    ),
    "status_nothing_yet": N_(
        "The trail holds no run of this number yet: every platform is still to check."
    ),
    "status_days_left": N_("{days} days left until {date}"),
    "status_day_left": N_("1 day left until {date}"),
    "status_today": N_("the number is cancelled today ({date})"),
    "status_days_past": N_("the cancellation date {date} passed {days} day(s) ago"),
    "status_left": N_("{left} platforms still to do"),
    "status_left_one": N_("1 platform still to do"),
    "status_all_done": N_("every platform is done"),
    "status_line": N_("{countdown}; {left}."),
    "status_no_until": N_("No cancellation date set: add --until YYYY-MM-DD for a countdown."),
    "status_todo": N_("Still to do, most harmful first ({count})"),
    "status_done": N_("Done ({count})"),
    "status_harm": N_("harm {harm}"),
    "known_changed": N_("changed, verified"),
    "known_unbound": N_("removed, verified"),
    "known_marked": N_("marked by hand: {state}"),
    "known_not_checked": N_("not checked yet"),
    "known_since": N_("since {time} UTC"),
    "next_check_at": N_("next check allowed from {time} UTC"),
    "next_not_checked": N_("Check it: {command}"),
    "status_until_kept": N_("Cancellation date {date} kept in the trail (run {run})."),
    "status_until_cleared": N_("Cancellation date cleared in the trail (run {run})."),
    "status_trail_ok": N_("intact"),
    "status_trail_warnings": N_("intact, with warnings (unbinder trail verify)"),
    "status_trail_tampered": N_("TAMPERED (unbinder trail verify)"),
    "audit_title": N_("Audit of {number}"),
    "audit_interrupted": N_("Interrupted: the platforms above are all that finished."),
    "named_bound": N_("Still bound ({count}): {names}."),
    "named_person": N_("Need you ({count}): {names}."),
    "named_no_answer": N_("No answer yet ({count}): {names}."),
    "commands_heading": N_(
        "Commands to copy (OLD and PHONE stand for the number checked, NEW for your new one):"
    ),
}
