"""The external anchor: the trail's head (sequence number + MAC) kept outside the trail.

A chain proves that nothing *inside* the log was changed, but not that nothing was cut off the
end, nor that the whole directory was not swapped for an older copy. A head recorded elsewhere
(the OS keyring, or a file the user keeps on another device) catches both: the anchored record
must still be in the chain, with the same MAC.

There is one by default (`default_anchor`): `UNBINDER_ANCHOR` names one (a file, `keyring`, or
`none`); else the OS keyring where the optional `keyring` package finds a real one; else a file
per trail in the user's config folder (platformdirs; `UNBINDER_ANCHOR_DIR` moves it, and the
tests point it at a temp folder). A trail created without an anchor (the demo's throwaway one)
says so in its header, and the default anchor then leaves it alone.

The anchor is advanced only to heads that are already durable and verified (at creation, run
seal and close), so a crash never leaves an anchor ahead of the log.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from unbinder import fsio
from unbinder.errors import BadInput, StorageError
from unbinder.i18n.translate import _, ngettext
from unbinder.trail.log import Frame, Tail

ANCHOR_ENV = "UNBINDER_ANCHOR"
ANCHOR_DIR_ENV = "UNBINDER_ANCHOR_DIR"
NO_ANCHOR = ("none", "off")  # UNBINDER_ANCHOR=none: the person turned the default one off
SCHEMA = "unbinder.anchor/1"
KEYRING_SERVICE = "unbinder"


@dataclass(frozen=True)
class AnchorState:
    trail_id: str  # hex
    seq: int
    head_mac: str  # hex

    def to_json(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "trail_id": self.trail_id,
            "seq": self.seq,
            "head_mac": self.head_mac,
        }

    @classmethod
    def from_json(cls, doc: object, where: str) -> AnchorState:
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise BadInput(_("{where} is not an unbinder anchor.").format(where=where))
        seq, trail_id, mac = doc.get("seq"), doc.get("trail_id"), doc.get("head_mac")
        if not isinstance(seq, int) or not isinstance(trail_id, str) or not isinstance(mac, str):
            raise BadInput(_("the anchor {where} is damaged.").format(where=where))
        return cls(trail_id=trail_id, seq=seq, head_mac=mac)


class Anchor(Protocol):
    """Somewhere outside the trail that remembers its head."""

    @property
    def description(self) -> str: ...

    def load(self, trail_id: str) -> AnchorState | None: ...

    def save(self, state: AnchorState) -> None: ...


class FileAnchor:
    """A small JSON file, ideally on another device (a USB stick, a synced folder)."""

    automatic = False  # True when it came from the defaults, not from --anchor

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def description(self) -> str:
        return _("file {path}").format(path=self.path)

    def load(self, trail_id: str) -> AnchorState | None:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise BadInput(
                _("cannot read the anchor file {path}: {exc}.").format(path=self.path, exc=exc)
            ) from None
        return AnchorState.from_json(doc, str(self.path))

    def save(self, state: AnchorState) -> None:
        data = (json.dumps(state.to_json(), indent=2) + "\n").encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                _("cannot create {parent}: {strerror}.").format(
                    parent=self.path.parent, strerror=exc.strerror
                )
            ) from exc
        fsio.replace_atomically(self.path, data)


class FolderAnchor:
    """One small JSON file per trail (named by its id) in a folder outside the data directory:
    the default where no keyring is at hand (the user's config folder)."""

    automatic = True

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def description(self) -> str:
        return _("the default anchor in {directory}").format(directory=self.directory)

    def _file(self, trail_id: str) -> FileAnchor:
        if not all(c in "0123456789abcdef" for c in trail_id):
            raise BadInput(_("a trail id is hex digits."))
        return FileAnchor(self.directory / f"{trail_id}.json")

    def load(self, trail_id: str) -> AnchorState | None:
        return self._file(trail_id).load(trail_id)

    def save(self, state: AnchorState) -> None:
        from unbinder.paths import private_dir

        private_dir(self.directory)
        self._file(state.trail_id).save(state)


class KeyringAnchor:
    """The OS keyring (needs the optional `keyring` package: pip install 'unbinder[keyring]')."""

    automatic = False

    def __init__(self) -> None:
        try:
            import keyring  # noqa: F401
        except ImportError:
            raise BadInput(
                _("the keyring anchor needs the optional `keyring` package."),
                hint=_("Install it with: pip install 'unbinder[keyring]', or use an anchor file."),
            ) from None

    @property
    def description(self) -> str:
        return _("the OS keyring")

    def load(self, trail_id: str) -> AnchorState | None:
        import keyring

        try:
            raw = keyring.get_password(KEYRING_SERVICE, _keyring_user(trail_id))
        except Exception as exc:  # keyring backends raise their own error types
            raise StorageError(_("cannot read the OS keyring: {exc}.").format(exc=exc)) from None
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
        except ValueError:
            raise BadInput(_("the anchor in the OS keyring is damaged.")) from None
        return AnchorState.from_json(doc, _("the OS keyring entry"))

    def save(self, state: AnchorState) -> None:
        import keyring

        try:
            keyring.set_password(
                KEYRING_SERVICE, _keyring_user(state.trail_id), json.dumps(state.to_json())
            )
        except Exception as exc:
            raise StorageError(
                _("cannot write to the OS keyring: {exc}.").format(exc=exc)
            ) from None


def parse_anchor(spec: str) -> Anchor:
    """`keyring` or a path, as given to --anchor or UNBINDER_ANCHOR."""
    if spec == "keyring":
        return KeyringAnchor()
    return FileAnchor(Path(spec).expanduser())


def default_anchor() -> Anchor | None:
    """The anchor every command keeps up to date: UNBINDER_ANCHOR's (None for `none`), else
    the OS keyring where there is a real one, else a file per trail in the config folder.

    Marked `automatic`: a trail created without an anchor (the demo's) is left alone by it."""
    spec = os.environ.get(ANCHOR_ENV)
    if spec and spec.lower() in NO_ANCHOR:
        return None
    anchor: Any
    if spec:
        anchor = parse_anchor(spec)
    elif os.environ.get(ANCHOR_DIR_ENV):
        anchor = FolderAnchor(Path(os.environ[ANCHOR_DIR_ENV]).expanduser())
    elif _real_keyring():
        anchor = KeyringAnchor()
    else:
        anchor = FolderAnchor(default_anchor_dir())
    anchor.automatic = True
    return anchor  # type: ignore[no-any-return]


def default_anchor_dir() -> Path:
    """Where the default anchor files go without a keyring: the user's config folder, outside
    the data directory (so restoring an older copy of that directory does not restore them)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("unbinder", appauthor=False)) / "anchors"


def _real_keyring() -> bool:
    """Is there an OS keyring (the optional `keyring` package with a backend that stores)?"""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return False
    try:
        backend = keyring.get_keyring()
    except Exception:
        return False
    names = type(backend).__module__ + "." + type(backend).__name__
    if isinstance(backend, fail.Keyring) or "null" in names.lower():
        return False
    children = getattr(backend, "backends", None)
    return children is None or bool(children)


def is_automatic(anchor: Anchor | None) -> bool:
    return bool(getattr(anchor, "automatic", False))


@dataclass(frozen=True)
class AnchorCheck:
    ok: bool | None  # None: nothing stored yet
    message: str


def check(
    state: AnchorState | None, trail_id: str, frames: list[Frame], tail: Tail | None = None
) -> AnchorCheck:
    """Compare a stored head with the chain (`frames` of an intact log, then `tail`, what
    looks like a torn write at its end)."""
    if state is None:
        return AnchorCheck(None, _("no head stored yet"))
    if state.trail_id != trail_id:
        return AnchorCheck(False, _("the anchor belongs to another trail"))
    head = frames[-1].seq if frames else -1
    anchored = next((f for f in frames if f.seq == state.seq and f.ok), None)
    if state.seq > head:
        lost = state.seq - head
        if tail is not None:
            return AnchorCheck(
                False,
                _(
                    "records {first} to {last} ({lost} the anchor vouches for) "
                    "are gone: the log ends in {reason} where they were, which no "
                    "interrupted write leaves (only the record being written can be torn)"
                ).format(first=head + 1, last=state.seq, lost=lost, reason=tail.reason),
            )
        return AnchorCheck(
            False,
            ngettext(
                "the trail ends at record {head} but the anchor holds record {seq}: "
                "{count} record was cut off the end or an older copy was restored",
                "the trail ends at record {head} but the anchor holds record {seq}: "
                "{count} records were cut off the end or an older copy was restored",
                lost,
            ).format(head=head, seq=state.seq, count=lost),
        )
    if anchored is None or anchored.mac.hex() != state.head_mac:
        return AnchorCheck(
            False,
            _(
                "record {seq} is not the one anchored: the trail was replaced by another copy"
            ).format(seq=state.seq),
        )
    if state.seq == head:
        return AnchorCheck(True, _("matches record {head}").format(head=head))
    return AnchorCheck(
        True,
        _("anchored record {seq} is in the chain ({newer} newer since)").format(
            seq=state.seq, newer=head - state.seq
        ),
    )


def _keyring_user(trail_id: str) -> str:
    return f"trail-anchor-{trail_id}"
