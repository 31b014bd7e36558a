"""Record a result the user achieved by hand (app-only platforms such as WeChat), so the trail
and the report cover every platform, not only those a browser can reach.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from unbinder.errors import BadInput
from unbinder.i18n.translate import _
from unbinder.vocab import MARK_STATUSES, MarkStatus

if TYPE_CHECKING:
    from unbinder.phone import PhoneNumber
    from unbinder.recipe.load import LoadedRecipe
    from unbinder.trail import Trail

MARKED = "marked"  # the `what` of the action record


def mark_result(
    trail: Trail,
    loaded: LoadedRecipe,
    phone: PhoneNumber,
    status: MarkStatus,
    *,
    note: str | None = None,
    new_phone: PhoneNumber | None = None,
) -> int:
    """Append a run holding the user's own result for one platform; return the run id."""
    if status not in MARK_STATUSES:
        raise BadInput(
            _("unknown status {status!r}.").format(status=status),
            hint=_("Use one of: {value}.").format(value=", ".join(MARK_STATUSES)),
        )
    if new_phone is not None and status != "changed":
        raise BadInput(
            _("--new-phone goes with --status changed."),
            hint=_("Drop --new-phone for this status."),
        )
    run = trail.start_run(
        "mark",
        phone,
        new_phone=new_phone,
        recipes={loaded.id: loaded.digest},
        details={"platform": loaded.id},
    )
    run.action(loaded.id, MARKED, by="user", details={"status": status, "note": note})
    run.result(
        loaded.id,
        {
            "status": status,
            "mode": "manual",
            "reason": note,
            "old_masked": phone.masked,
            "new_masked": new_phone.masked if new_phone is not None else None,
            "by": "user",
        },
    )
    run.seal()
    return run.id
