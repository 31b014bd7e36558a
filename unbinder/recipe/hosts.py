"""Which host names a recipe may list in `domains`: registrable public names only.

Live checks reach a recipe's domains directly (they bypass the guard's blackhole proxy), and
each domain also allows its subdomains. So a domain must be a name under a real public suffix
(Public Suffix List, the `publicsuffixlist` package's bundled copy: nothing is fetched at run
time), and never:

- an IP address in any spelling (`127.0.0.1`, `2130706433`, `0x7f.1`, `127.1`, `[::1]`), nor a
  name that spells one out for a wildcard DNS service (`127.0.0.1.nip.io`);
- a loopback or local name (`localhost`, `*.localhost`, `.local`, `.internal`, `.lan`,
  `home.arpa`...);
- a public suffix itself (`com`, `co.uk`, `github.io`), which would act as a wildcard over
  every site under it.

`.test` names (reserved for testing by RFC 6761, never resolved) are allowed: the replicas use
them. Internationalised names (punycode, `xn--`) are allowed, but lint and `recipes show`
print them decoded, with a warning: `xn--80ak6aa92e.com` reads as `аррӏе.com`, not apple.com.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Any

DOMAIN_PATTERN = r"[a-z0-9\-]+(\.[a-z0-9\-]+)+"
LOCAL_SUFFIXES = (
    "localhost",
    "local",
    "internal",
    "lan",
    "home.arpa",
    "localdomain",
    "intranet",
    "corp",
    "home",
    "private",
)
LOCAL_NAMES = ("ip6-localhost", "ip6-loopback")
# RFC 2606 / 6761: never resolved; the offline replicas and the examples live there.
TESTING_SUFFIXES = ("test", "example", "invalid")
# Public wildcard DNS services whose names resolve to the address they spell.
ADDRESS_SERVICES = (
    "nip.io",
    "sslip.io",
    "xip.io",
    "localtest.me",
    "lvh.me",
    "vcap.me",
    "lacolhost.com",
    "localhost.direct",
    "traefik.me",
)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")
_NUMERIC = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")
_DASHED_ADDRESS = re.compile(r"(?:^|[.\-])\d{1,3}[\-.]\d{1,3}[\-.]\d{1,3}[\-.]\d{1,3}(?:$|[.\-])")


@functools.cache
def _psl() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()  # the copy bundled with the package; no network


def host_problem(host: str) -> str | None:
    """Why `host` may not be one of a recipe's domains (None: it may)."""
    bare = host.strip("[]")
    labels = host.split(".")
    if _is_address(bare) or (re.fullmatch(r"[a-z0-9.]+", host) and _NUMERIC.fullmatch(labels[-1])):
        return f"{host!r} is an IP address (in any spelling); a recipe lists host names only"
    if host in LOCAL_NAMES or any(host == s or host.endswith("." + s) for s in LOCAL_SUFFIXES):
        return f"{host!r} is a loopback or local name; a recipe lists public host names only"
    if "." not in host and _LABEL.fullmatch(host) and _psl().is_public(host):
        return (
            f"{host!r} is a public suffix (like com, co.uk or github.io): as a domain it would "
            "allow every site under it; list the platform's own name (example.com)"
        )
    if not re.fullmatch(DOMAIN_PATTERN, host):
        return f"{host!r} is not a host name (write example.com: lower case, no scheme or port)"
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return f"{host!r} is not a host name (each label 1-63 letters, digits or inner hyphens)"
    if any(host == s or host.endswith("." + s) for s in ADDRESS_SERVICES) or _spells_address(
        labels
    ):
        return (
            f"{host!r} spells out an IP address (a wildcard DNS name resolving to it); a recipe "
            "lists a platform's own host names only"
        )
    if labels[-1] in TESTING_SUFFIXES:
        return None
    psl = _psl()
    if psl.publicsuffix(host, accept_unknown=False) is None:
        return (
            f"{host!r} does not end in a known public suffix (Public Suffix List); a recipe "
            "lists a platform's registered host names"
        )
    if psl.privatesuffix(host, accept_unknown=False) is None:
        return (
            f"{host!r} is a public suffix (like com, co.uk or github.io): as a domain it would "
            "allow every site under it; list the platform's own name (example.co.uk)"
        )
    punycode = decoded(host)
    if punycode is None:
        return f"{host!r} holds an invalid internationalised (xn--) label"
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _spells_address(labels: list[str]) -> bool:
    """Four numeric labels in a row (`127.0.0.1.example.com`) or a dashed quad."""
    run = 0
    for label in labels:
        run = run + 1 if label.isdigit() else 0
        if run >= 4:
            return True
    return _DASHED_ADDRESS.search(".".join(labels)) is not None


def decoded(host: str) -> str | None:
    """The host as people read it (punycode labels decoded); None when a label is invalid."""
    if "xn--" not in host:
        return host
    out = []
    for label in host.split("."):
        if not label.startswith("xn--"):
            out.append(label)
            continue
        try:
            out.append(label[4:].encode("ascii").decode("punycode"))
        except (UnicodeError, ValueError):
            return None
    return ".".join(out)


def punycode_warning(host: str) -> str | None:
    """A warning for an internationalised host: what it reads as, which may imitate another."""
    shown = decoded(host)
    if shown is None or shown == host:
        return None
    return (
        f"domain {host!r} is an internationalised name that reads as {shown!r}: make sure it "
        "is the platform's own and not a look-alike of it"
    )


__all__ = ["DOMAIN_PATTERN", "decoded", "host_problem", "punycode_warning"]
