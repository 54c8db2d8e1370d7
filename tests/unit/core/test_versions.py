"""PEP 440 versions and specifier sets (``rigfit.core.versions``): the order, each operator's set, and the
interval algebra the declared-conflict check relies on. Checked against ``packaging`` where the venv has it
(a test-only reference; the core never imports it)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rigfit.core.versions import (
    ANY,
    allowed_by,
    complement,
    contains,
    intersect,
    parse_version,
)

packaging_specifiers = pytest.importorskip("packaging.specifiers")
packaging_version = pytest.importorskip("packaging.version")

_parts = st.integers(min_value=0, max_value=3)
_release = st.lists(_parts, min_size=1, max_size=3).map(lambda xs: ".".join(map(str, xs)))
_pre = st.sampled_from(["", "a1", "b2", "rc1", "rc0"])
_post = st.sampled_from(["", ".post1", ".post0"])
_dev = st.sampled_from(["", ".dev0", ".dev3"])
_local = st.sampled_from(["", "+cu130", "+1.x"])
_epoch = st.sampled_from(["", "", "", "1!"])
versions = st.builds(lambda e, r, p, q, d, loc: e + r + p + q + d + loc, _epoch, _release, _pre, _post, _dev, _local)
public_versions = st.builds(lambda e, r, p, q, d: e + r + p + q + d, _epoch, _release, _pre, _post, _dev)
_ORDERED = ["<", "<=", ">", ">=", "~="]


@st.composite
def specifiers(draw: st.DrawFn) -> str:
    op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "~=", "==*", "!=*"]))
    if op.endswith("*"):
        return op[:-1] + draw(_release) + ".*"
    if op == "~=":
        return op + draw(st.lists(_parts, min_size=2, max_size=3).map(lambda xs: ".".join(map(str, xs)))) + \
            draw(_pre) + draw(_post) + draw(_dev)
    version: str = draw(public_versions if op in _ORDERED else versions)
    return op + version


def _approximated(spec: str) -> bool:
    """The corner cases where rigfit's set is a documented superset of PEP 440's (module docstring)."""
    v = parse_version(spec.lstrip("<>=!~"))
    if v is None:
        return False
    return (spec.startswith("<") and not spec.startswith("<=") and v.post is not None) or (
        spec.startswith(">") and not spec.startswith(">=") and (v.is_prerelease or v.post is not None))


def _reference(spec: str, version: str) -> bool:
    return bool(packaging_specifiers.SpecifierSet(spec).contains(packaging_version.Version(version),
                                                                  prereleases=True))


@settings(max_examples=300, deadline=None)
@given(specifiers(), versions)
def test_each_specifiers_set_matches_pep440_or_is_a_documented_superset(spec: str, version: str) -> None:
    """A version packaging accepts is always in rigfit's set; outside the corner cases the sets are equal."""
    allowed = allowed_by(spec)
    assert allowed is not None
    mine = contains(allowed, parse_version(version))  # type: ignore[arg-type]
    theirs = _reference(spec, version)
    if theirs:
        assert mine, f"{version} satisfies {spec} but is outside rigfit's set"
    elif not _approximated(spec):
        assert not mine, f"{version} does not satisfy {spec} but is inside rigfit's set"


@settings(max_examples=250, deadline=None)
@given(specifiers(), specifiers(), specifiers(), versions)
def test_a_version_is_in_the_intersection_iff_it_satisfies_each_specifier(a: str, b: str, c: str,
                                                                          version: str) -> None:
    sets = [allowed_by(s) for s in (a, b, c)]
    v = parse_version(version)
    assert v is not None and all(s is not None for s in sets)
    both = intersect(intersect(sets[0], sets[1]), sets[2])  # type: ignore[arg-type]
    assert contains(both, v) == all(contains(s, v) for s in sets)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(specifiers(), specifiers(), versions)
def test_complement_holds_exactly_the_versions_outside(a: str, b: str, version: str) -> None:
    union_free = intersect(allowed_by(a) or ANY, allowed_by(b) or ANY)
    v = parse_version(version)
    assert v is not None
    assert contains(complement(union_free), v) != contains(union_free, v)


@settings(max_examples=250, deadline=None)
@given(specifiers(), specifiers(), st.lists(versions, min_size=1, max_size=20))
def test_an_empty_intersection_means_no_version_satisfies_both(a: str, b: str, sample: list[str]) -> None:
    """The direction the conflict check depends on: 'empty' is never wrong."""
    if intersect(allowed_by(a) or ANY, allowed_by(b) or ANY):
        return
    for version in sample:
        assert not (_reference(a, version) and _reference(b, version)), f"{version} satisfies {a} and {b}"


@pytest.mark.parametrize("lower, higher", [
    ("1.0.dev0", "1.0a1"), ("1.0a1", "1.0a2.dev0"), ("1.0a2", "1.0b1"), ("1.0b1", "1.0rc1"),
    ("1.0rc1", "1.0"), ("1.0", "1.0+local"), ("1.0+abc", "1.0+7"), ("1.0+local", "1.0.post1.dev0"),
    ("1.0.post1.dev0", "1.0.post1"), ("1.0.post1", "1.0.1"), ("1.9", "1.10"), ("9.0", "1!0.1"),
], ids=lambda x: x)
def test_pep440_order(lower: str, higher: str) -> None:
    a, b = parse_version(lower), parse_version(higher)
    assert a is not None and b is not None
    assert a.key < b.key


@pytest.mark.parametrize("a, b", [("1.0", "1.0.0"), ("1.0a1", "1.0.0-alpha.1"), ("1.0.post0", "1.0-0"),
                                  ("v2.1", "2.1"), ("1.0rc1", "1.0c1")], ids=lambda x: x)
def test_spellings_of_one_version_have_one_key(a: str, b: str) -> None:
    assert parse_version(a).key == parse_version(b).key  # type: ignore[union-attr]


@pytest.mark.parametrize("spec, inside, outside", [
    ("<2", ["1.26.4", "1.99.post3"], ["2.0rc1", "2.0.dev0", "2.0"]),
    ("<2.0rc1", ["2.0b9", "2.0.dev0"], ["2.0rc1", "2.0"]),
    (">2", ["2.0.1", "3"], ["2.0.post1", "2.0+local", "2"]),
    ("==1.26.*", ["1.26", "1.26.4", "1.26.0rc1", "1.26.4+cpu"], ["1.27", "1.2.6"]),
    ("!=1.26.*", ["1.27", "1.25.9"], ["1.26.1"]),
    ("~=1.11.1.4", ["1.11.1.4", "1.11.1.9"], ["1.11.2", "1.11.1.3"]),
    ("==2.7.1", ["2.7.1", "2.7.1+cu128"], ["2.7.2"]),
    ("==2.7.1+cu128", ["2.7.1+cu128"], ["2.7.1", "2.7.1+cpu"]),
    ("<=1.26.4", ["1.26.4+x"], ["1.26.5"]),
    ("===1.0", ["1.0"], ["1.1"]),
], ids=lambda x: x if isinstance(x, str) else None)
def test_specifier_sets(spec: str, inside: list[str], outside: list[str]) -> None:
    allowed = allowed_by(spec)
    assert allowed is not None
    for v in inside:
        assert contains(allowed, parse_version(v)), v  # type: ignore[arg-type]
    for v in outside:
        assert not contains(allowed, parse_version(v)), v  # type: ignore[arg-type]


@pytest.mark.parametrize("spec", ["==1.0rc1.*", "~=1", "<1.0+local", "==not-a-version", "=>1"], ids=lambda x: x)
def test_unreadable_specifiers_give_none_so_the_check_stays_silent(spec: str) -> None:
    assert allowed_by(spec) is None


@pytest.mark.parametrize("a, b, empty", [
    ("<2", ">=2", True), ("<2", ">=2.0rc1", True), ("<=2", ">=2", False), ("==1.23.4", ">=1.26", True),
    ("~=1.11.1", ">=1.12", True), ("!=1.0", "==1.0", True), ("!=1.0", "==1.0+x", True),
    ("==1.0.*", "!=1.0.*", True), ("<2.0.post1", ">=2.0", False), (">2", "<=2.0.post5", True),
], ids=lambda x: str(x))
def test_intersection_emptiness(a: str, b: str, empty: bool) -> None:
    assert (not intersect(allowed_by(a) or ANY, allowed_by(b) or ANY)) is empty


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.*!+<>=~,abcrdevpost- ", max_size=24))
def test_any_specifier_text_gives_a_set_or_none_never_an_exception(text: str) -> None:
    allowed = allowed_by(text)
    assert allowed is None or isinstance(allowed, tuple)
