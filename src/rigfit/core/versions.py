"""PEP 440 versions and version specifiers as sets of intervals, to tell whether specifiers can all hold at once.

``packaging`` is not used here: ``packaging.specifiers`` pulls ``packaging.tags`` and with it ``subprocess``
into the pure core, and rigfit needs one question answered, offline and fast: is the intersection of these
specifiers empty? Versions map to sort keys with PEP 440's order (https://peps.python.org/pep-0440/,
"Summary of permitted suffixes and relative ordering"); each specifier becomes a union of key intervals.

The sets are exact for ``==``, ``!=``, ``==X.*``, ``!=X.*``, ``<=``, ``>=``, ``~=``, for ``<V`` and ``>V``
with a final release ``V``, and supersets in PEP 440's corner cases (``<V.postN`` keeps the ``.devM`` of
earlier post releases, ``>V`` with a pre-, dev- or post-release ``V`` keeps post releases and
local versions of ``V``'s release). A superset can only hide a conflict, never invent one: an empty
intersection is always a real conflict.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from typing import NamedTuple

_VERSION = re.compile(
    r"v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>\d+)?)?"
    r"(?:-(?P<post_n1>\d+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>\d+)?)?"
    r"(?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d+)?)?"
    r"(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?",
    re.IGNORECASE,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
_SPEC = re.compile(r"\s*(===|~=|==|!=|<=|>=|<|>)\s*(\S+?)\s*")

# A sort key: (epoch, release without trailing zeros, pre, post, dev, local). Each part is a tuple so that
# sentinels compare with real values: (-1,) below and (3,) above every pre-release tag, and so on.
Key = tuple[object, ...]
_BELOW = (-3,)  # sorts before every real pre/post/dev part: the floor of a release
_ABOVE = (4,)  # sorts after every real pre part: the ceiling of a release
_LOCAL_MAX = ((2,),)  # sorts after every local label


class Version(NamedTuple):
    """A parsed PEP 440 version; ``key`` orders versions as PEP 440 does."""

    text: str
    epoch: int
    release: tuple[int, ...]
    pre: tuple[int, int] | None
    post: int | None
    dev: int | None
    local: tuple[tuple[int, int | str], ...]  # (0, "abc") sorts before (1, 7), as PEP 440 orders local parts

    @property
    def key(self) -> Key:
        release = _strip(self.release)
        if self.pre is None and self.post is None and self.dev is not None:
            pre: tuple[int, ...] = (-2,)  # 1.0.dev0 sorts before 1.0a0
        else:
            pre = (3,) if self.pre is None else self.pre
        post = (-1,) if self.post is None else (0, self.post)
        dev = (1,) if self.dev is None else (0, self.dev)
        return (self.epoch, release, pre, post, dev, self.local)

    @property
    def is_prerelease(self) -> bool:
        return self.pre is not None or self.dev is not None

    def __str__(self) -> str:
        return self.text


def _strip(release: tuple[int, ...]) -> tuple[int, ...]:
    end = len(release)
    while end > 1 and release[end - 1] == 0:
        end -= 1
    return release[:end]


def parse_version(text: str) -> Version | None:
    """A PEP 440 version, or None when ``text`` is not one."""
    m = _VERSION.fullmatch(text.strip())
    if m is None:
        return None
    pre = None
    if m.group("pre_l"):
        pre = (_PRE_RANK[m.group("pre_l").lower()], int(m.group("pre_n") or 0))
    post = None
    if m.group("post_n1") is not None:
        post = int(m.group("post_n1"))
    elif m.group("post_l"):
        post = int(m.group("post_n2") or 0)
    dev = int(m.group("dev_n") or 0) if m.group("dev_l") else None
    local: tuple[tuple[int, int | str], ...] = ()
    if m.group("local"):
        local = tuple((1, int(p)) if p.isdigit() else (0, p.lower())
                      for p in re.split(r"[-_.]", m.group("local")))
    return Version(text.strip(), int(m.group("epoch") or 0), tuple(int(p) for p in m.group("release").split(".")),
                   pre, post, dev, local)


# An interval of keys: (low, low inclusive, high, high inclusive); None is unbounded.
Interval = tuple[Key | None, bool, Key | None, bool]
ANY: tuple[Interval, ...] = ((None, False, None, False),)
NOTHING: tuple[Interval, ...] = ()


def _floor(epoch: int, release: tuple[int, ...]) -> Key:
    return (epoch, _strip(release), _BELOW)


def _ceiling(epoch: int, release: tuple[int, ...]) -> Key:
    return (epoch, _strip(release), _ABOVE)


def _with_any_local(v: Version) -> Key:
    return (*v.key[:5], _LOCAL_MAX)


def _lt(a: Key, b: Key) -> bool:
    # Keys hold tuples of ints and strs in matching positions; mypy cannot see that they compare.
    return a < b


def _empty(iv: Interval) -> bool:
    low, low_in, high, high_in = iv
    if low is None or high is None:
        return False
    return _lt(high, low) or (low == high and not (low_in and high_in))


def _max_low(a: Interval, b: Interval) -> tuple[Key | None, bool]:
    if a[0] is None:
        return b[0], b[1]
    if b[0] is None or _lt(b[0], a[0]):
        return a[0], a[1]
    if a[0] == b[0]:
        return a[0], a[1] and b[1]
    return b[0], b[1]


def _min_high(a: Interval, b: Interval) -> tuple[Key | None, bool]:
    if a[2] is None:
        return b[2], b[3]
    if b[2] is None or _lt(a[2], b[2]):
        return a[2], a[3]
    if a[2] == b[2]:
        return a[2], a[3] and b[3]
    return b[2], b[3]


def intersect(a: tuple[Interval, ...], b: tuple[Interval, ...]) -> tuple[Interval, ...]:
    """The intervals common to two unions of sorted, disjoint intervals (the result is sorted too)."""
    out = []
    for x in a:
        for y in b:
            iv: Interval = (*_max_low(x, y), *_min_high(x, y))
            if not _empty(iv):
                out.append(iv)
    return tuple(out)


def complement(a: tuple[Interval, ...]) -> tuple[Interval, ...]:
    """Every key not in ``a`` (sorted and disjoint)."""
    if not a:
        return ANY
    out: list[Interval] = []
    if a[0][0] is not None:
        out.append((None, False, a[0][0], not a[0][1]))
    for (_, _, hi, hi_in), (lo, lo_in, _, _) in itertools.pairwise(a):
        gap: Interval = (hi, not hi_in, lo, not lo_in)
        if not _empty(gap):
            out.append(gap)
    if a[-1][2] is not None:
        out.append((a[-1][2], not a[-1][3], None, False))
    return tuple(out)


def contains(a: tuple[Interval, ...], version: Version) -> bool:
    k = version.key
    for lo, lo_in, hi, hi_in in a:
        above = lo is None or _lt(lo, k) or (lo_in and lo == k)
        below = hi is None or _lt(k, hi) or (hi_in and hi == k)
        if above and below:
            return True
    return False


def specifier_set(op: str, text: str) -> tuple[Interval, ...] | None:
    """The keys one specifier (``op`` and version text) allows; None when it cannot be read."""
    if op in {"==", "!="} and text.endswith(".*"):
        v = parse_version(text[:-2])
        if v is None or v.pre is not None or v.post is not None or v.dev is not None or v.local:
            return None
        bumped = (*v.release[:-1], v.release[-1] + 1)
        prefix: tuple[Interval, ...] = ((_floor(v.epoch, v.release), True, _floor(v.epoch, bumped), False),)
        return prefix if op == "==" else complement(prefix)
    v = parse_version(text)
    if v is None:
        return None
    if v.local and op not in {"==", "!=", "==="}:
        return None  # PEP 440 allows a local label only in == and !=
    if op in {"==", "!=", "==="}:
        high = v.key if v.local or op == "===" else _with_any_local(v)
        same: tuple[Interval, ...] = ((v.key, True, high, True),)
        return complement(same) if op == "!=" else same
    if op == ">=":
        return ((v.key, True, None, False),)
    if op == "<=":
        return ((None, False, _with_any_local(v), True),)
    if op == "<":
        # <V excludes pre-releases of V's own release unless V is one (PEP 440 "Exclusive ordered comparison");
        # for a post release V the dev releases of earlier post releases are kept (a superset).
        if v.is_prerelease or v.post is not None:
            return ((None, False, v.key, False),)
        return ((None, False, _floor(v.epoch, v.release), False),)
    if op == ">":
        if v.pre is None and v.post is None and v.dev is None:  # excludes V's post releases and local versions
            return ((_ceiling(v.epoch, v.release), False, None, False),)
        return ((_with_any_local(v), False, None, False),)
    if op == "~=":  # >=V, ==(V without its last release part).*
        if len(v.release) < 2:
            return None
        head = v.release[:-1]
        bumped = (*head[:-1], head[-1] + 1)
        return ((v.key, True, _floor(v.epoch, bumped), False),)
    return None


def parse_specifiers(text: str) -> tuple[tuple[str, tuple[Interval, ...]], ...] | None:
    """``>=1.2,<2`` → each specifier's text and set; None when one of them cannot be read."""
    out = []
    for piece in text.split(","):
        if not piece.strip():
            continue
        m = _SPEC.fullmatch(piece)
        if m is None:
            return None
        allowed = specifier_set(m.group(1), m.group(2))
        if allowed is None:
            return None
        out.append((m.group(1) + m.group(2), allowed))
    return tuple(out)


def allowed_by(text: str) -> tuple[Interval, ...] | None:
    """The keys a whole specifier text allows (``""`` allows every version); None when unreadable."""
    parsed = parse_specifiers(text)
    if parsed is None:
        return None
    return intersect_all(s for _, s in parsed)


def intersect_all(sets: Iterable[tuple[Interval, ...]]) -> tuple[Interval, ...]:
    result = ANY
    for s in sets:
        result = intersect(result, s)
        if not result:
            break
    return result
