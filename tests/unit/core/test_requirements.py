"""Node-pack requirement lines are parsed, screened, and every refusal names pack, file and line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rigfit.core.requirements import (
    Origin,
    Requirement,
    canonical_name,
    parse_requirement,
    screen_declarations,
    screen_line,
    screen_pyproject,
    screen_requirements_txt,
)

HERE = Origin("ComfyUI-Foo", "requirements.txt", 7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("numpy<2", Requirement("numpy", specifier="<2"), id="upper-bound"),
        pytest.param("Opencv_Python >= 4.7.0.72", Requirement("opencv-python", specifier=">=4.7.0.72"),
                     id="normalised-name"),
        pytest.param("transformers>=4.39.0, <=4.49.0", Requirement("transformers", specifier=">=4.39.0,<=4.49.0"),
                     id="range"),
        pytest.param("torch==2.13.0+cu130", Requirement("torch", specifier="==2.13.0+cu130"), id="local-version"),
        pytest.param("diffusers[torch,Training]~=0.30", Requirement("diffusers", ("torch", "training"), "~=0.30"),
                     id="extras"),
        pytest.param("numpy!=1.5.*", Requirement("numpy", specifier="!=1.5.*"), id="wildcard"),
        pytest.param("insightface==0.7.3; sys_platform != 'win32'",
                     Requirement("insightface", specifier="==0.7.3", marker="sys_platform != 'win32'"), id="marker"),
        pytest.param("x (>=1.0)", Requirement("x", specifier=">=1.0"), id="parenthesised"),
        pytest.param("sam2 @ git+https://github.com/facebookresearch/sam2",
                     Requirement("sam2", url="git+https://github.com/facebookresearch/sam2"), id="direct-url"),
    ],
)
def test_valid_requirements_parse(text: str, expected: Requirement) -> None:
    assert parse_requirement(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("numpy>=", id="operator-without-version"),
        pytest.param("numpy<2 and", id="trailing-words"),
        pytest.param("numpy=1.0", id="single-equals"),
        pytest.param("foo~=1", id="compatible-release-one-part"),
        pytest.param("foo[bar", id="unclosed-extras"),
        pytest.param("foo; python_version >< '3'", id="bad-marker-operator"),
        pytest.param("foo; pyversion == '3'", id="unknown-marker-variable"),
        pytest.param("foo; (python_version > '3'", id="unbalanced-marker"),
        pytest.param("!!!", id="no-name"),
        pytest.param("foo==1.0beta-ish!", id="bad-version"),
    ],
)
def test_malformed_requirements_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_requirement(text)


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        pytest.param("--index-url https://evil.example/simple", "source", id="index-url"),
        pytest.param("-i https://evil.example/simple", "source", id="index-url-short"),
        pytest.param("--extra-index-url=https://download.pytorch.org/whl/cu118", "source", id="extra-index-url"),
        pytest.param("--find-links /tmp/wheels", "source", id="find-links"),
        pytest.param("-f https://x.example/wheels", "source", id="find-links-short"),
        pytest.param("--trusted-host evil.example", "source", id="trusted-host"),
        pytest.param("-r more.txt", "include", id="include"),
        pytest.param("-c constraints.txt", "include", id="constraint-include"),
        pytest.param("-e .", "direct-url", id="editable"),
        pytest.param("git+https://github.com/facebookresearch/segment-anything.git", "direct-url", id="bare-git"),
        pytest.param("https://example.com/pkg-1.0-py3-none-any.whl", "direct-url", id="bare-url"),
        pytest.param("./vendor/pkg", "direct-url", id="relative-path"),
        pytest.param("C:\\wheels\\x.whl", "direct-url", id="windows-path"),
        pytest.param("sam2 @ git+https://github.com/facebookresearch/sam2", "direct-url", id="named-git"),
        pytest.param("foo @ file:///home/me/foo", "direct-url", id="named-file-url"),
        pytest.param("foo --install-option=--prefix=/", "option", id="install-option"),
        pytest.param("--pre", "option", id="global-option"),
        pytest.param("numpy>>2", "malformed", id="malformed"),
    ],
)
def test_hostile_lines_are_refused_with_origin(line: str, kind: str) -> None:
    result = screen_line(HERE, line)
    assert result.declared == ()
    assert len(result.refused) == 1
    refused = result.refused[0]
    assert (refused.kind, refused.origin, refused.text) == (kind, HERE, line)
    assert refused.reason


def test_hash_option_is_harmless_and_dropped() -> None:
    result = screen_line(HERE, "numpy==1.26.4 --hash=sha256:abc123")
    assert [str(d.requirement) for d in result.declared] == ["numpy==1.26.4"]


def test_allowed_unsafe_lines_become_sources_includes_and_urls() -> None:
    text = "--extra-index-url https://download.pytorch.org/whl/cu126\n-r extra.txt\nsam2 @ git+https://x/sam2\n"
    result = screen_requirements_txt("P", "requirements.txt", text, allow_unsafe=True)
    assert result.refused == ()
    assert result.index_options == ("--extra-index-url", "https://download.pytorch.org/whl/cu126")
    assert [(o.line, path, constraint) for o, path, constraint in result.includes] == [(2, "extra.txt", False)]
    assert result.declared[0].requirement.url == "git+https://x/sam2"


def test_requirements_file_keeps_line_numbers_through_comments_and_continuations() -> None:
    text = "# header\n\nnumpy<2  # ABI\nopencv-python\\\n>=4.7\n  \n--index-url http://x\nbad line here\n"
    result = screen_requirements_txt("ComfyUI-Foo", "requirements.txt", text)
    assert [(d.origin.line, str(d.requirement)) for d in result.declared] == [(3, "numpy<2"),
                                                                             (4, "opencv-python>=4.7")]
    assert [(r.origin.line, r.kind) for r in result.refused] == [(7, "source"), (8, "malformed")]
    assert str(result.refused[1].origin) == "ComfyUI-Foo/requirements.txt:8"


def test_pyproject_dependencies_point_at_their_lines() -> None:
    text = '[project]\nname = "x"\ndependencies = [\n  "numpy>=2",\n  "git+https://x/y",\n]\n'
    result = screen_pyproject("ComfyUI-Bar", "pyproject.toml", text)
    assert [(d.origin.line, str(d.requirement)) for d in result.declared] == [(4, "numpy>=2")]
    assert [(r.origin.line, r.kind) for r in result.refused] == [(5, "direct-url")]


def test_broken_pyproject_is_reported_not_raised() -> None:
    result = screen_pyproject("P", "pyproject.toml", "[project\nname=1\n")
    assert result.declared == ()
    assert result.refused[0].kind == "malformed"
    assert result.refused[0].origin.line == 1


def test_catalog_declarations_are_screened_per_pack() -> None:
    result = screen_declarations({"a": ["numpy<2", "--find-links /x"], "b": ["numpy>=2"]})
    assert result.packs() == ("a", "b")
    assert [(d.origin.pack, d.origin.source, d.origin.line) for d in result.declared] == [
        ("a", "catalog", 1), ("b", "catalog", 1)]
    assert result.refused[0].origin == Origin("a", "catalog", 2)


@given(st.text(max_size=80))
def test_screening_never_raises_on_arbitrary_text(text: str) -> None:
    result = screen_requirements_txt("fuzz", "requirements.txt", text)
    for declared in result.declared:
        # anything kept must survive a second parse unchanged (what uv will read is what we checked)
        assert parse_requirement(str(declared.requirement)) == declared.requirement


_names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}(?:[-_.][A-Za-z0-9]{1,5})?", fullmatch=True)
_versions = st.from_regex(r"[0-9]{1,3}(?:\.[0-9]{1,3}){1,3}", fullmatch=True)


@given(_names, st.sampled_from(["==", ">=", "<=", "<", ">", "!=", "~="]), _versions)
def test_rendered_requirements_parse_back(name: str, op: str, version: str) -> None:
    requirement = parse_requirement(f"{name}{op}{version}")
    assert requirement.name == canonical_name(name)
    assert parse_requirement(str(requirement)) == requirement
