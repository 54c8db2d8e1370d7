"""uv's failure reports become conflicts that name the node packs and what each of them needs.

PAIR and CONSTRAINT are verbatim uv 0.13.9 stderr from ``uv pip compile`` over synthetic ``nodepack-*`` wheels
(the shape ``rigfit.shell.resolver`` produces); TRANSITIVE and MISSING put pack names into uv's wording as
recorded in ``shared/reference/ecosystem.md`` §2.4. The integration tests run the real uv.
"""

from __future__ import annotations

import pytest

from rigfit.core.conflicts import COMFYUI_PARTY, TORCH_PARTY, explain, meta_name, meta_names, parse_failure
from rigfit.core.requirements import screen_declarations

PAIR = """error: No solution found when resolving dependencies
  cause: Because all versions of nodepack-newnode-np2 depend on numpy>=2 and all versions of nodepack-layerstyle depend on numpy<2, we can conclude that all versions of nodepack-layerstyle and all versions of nodepack-newnode-np2 are incompatible.
         And because you require nodepack-layerstyle and nodepack-newnode-np2, we can conclude that your requirements are unsatisfiable.
"""
CONSTRAINT = """error: No solution found when resolving dependencies
  cause: Because all versions of nodepack-florence2 depend on transformers<=4.49.0 and transformers>=4.50.3, we can conclude that all versions of nodepack-florence2 cannot be used.
         And because you require nodepack-florence2, we can conclude that your requirements are unsatisfiable.
"""
TRANSITIVE = """error: No solution found when resolving dependencies
  cause: Because torchvision>=0.29.1 depends on torch>=2.14.0 and torchvision==0.29.0 depends on torch==2.14.0, we can conclude that torchvision>=0.29.0 depends on torch>=2.14.0.
         And because all versions of nodepack-x depend on torchvision>=0.29 and torch==2.13.0, we can conclude that all versions of nodepack-x cannot be used.
"""
MISSING = """error: No solution found when resolving dependencies
  cause: Because doesnotexist was not found in the provided package locations and all versions of nodepack-x depend on doesnotexist, we can conclude that all versions of nodepack-x cannot be used.
"""
NETWORK = "error: Failed to fetch: `https://pypi.org/simple/numpy/`\n  Caused by: dns error\n"

META = {"nodepack-layerstyle": "LayerStyle", "nodepack-newnode-np2": "newnode_np2",
        "nodepack-florence2": "Florence2", "nodepack-x": "ComfyUI-X"}


def test_pair_conflict_names_both_packs_and_the_package() -> None:
    failure = parse_failure(PAIR, META)
    assert failure.is_conflict
    assert set(failure.packs) == {"LayerStyle", "newnode_np2"}
    assert failure.packages == ("numpy",)
    assert "nodepack-" not in failure.cause and "LayerStyle" in failure.cause


def test_pair_detail_quotes_each_packs_own_line() -> None:
    declared = screen_declarations({"LayerStyle": ["numpy<2.0", "opencv-contrib-python"],
                                    "newnode_np2": ["numpy>=2.0", "kornia"]}).declared
    conflict = explain(["LayerStyle", "newnode_np2"], parse_failure(PAIR, META), declared, {COMFYUI_PARTY: ["numpy"]})
    assert conflict.detail.startswith("LayerStyle needs numpy<2.0; newnode_np2 needs numpy>=2.0 — drop one")
    assert conflict.against == ()  # ComfyUI's unpinned numpy cannot take part
    assert conflict.as_dict()["packs"] == ["LayerStyle", "newnode_np2"]


def test_conflict_with_comfyui_names_comfyui_as_the_other_side() -> None:
    declared = screen_declarations({"Florence2": ["transformers>=4.39.0,<=4.49.0", "timm"]}).declared
    conflict = explain(["Florence2"], parse_failure(CONSTRAINT, META), declared,
                       {COMFYUI_PARTY: ["transformers>=4.50.3"], TORCH_PARTY: ["torch==2.13.0"]})
    assert conflict.against == (COMFYUI_PARTY,)
    assert "Florence2 needs transformers>=4.39.0,<=4.49.0" in conflict.detail
    assert "ComfyUI requires transformers>=4.50.3" in conflict.detail


def test_transitive_torch_conflict_blames_the_torch_build_and_says_torch_never_moves() -> None:
    failure = parse_failure(TRANSITIVE, META)
    assert failure.packs == ("ComfyUI-X",)
    assert failure.packages == ("torchvision", "torch")
    declared = screen_declarations({"ComfyUI-X": ["torchvision>=0.29"]}).declared
    conflict = explain(["ComfyUI-X"], failure, declared, {TORCH_PARTY: ["torch==2.13.0+cu130"]})
    assert conflict.against == (TORCH_PARTY,)
    assert "never lets a node pack change torch" in conflict.detail


def test_missing_package_is_reported_as_such() -> None:
    failure = parse_failure(MISSING, META)
    assert failure.missing == ("doesnotexist",)
    declared = screen_declarations({"ComfyUI-X": ["doesnotexist>=1"]}).declared
    conflict = explain(["ComfyUI-X"], failure, declared, {})
    assert "has no doesnotexist" in conflict.detail


def test_other_failures_are_not_conflicts() -> None:
    assert not parse_failure(NETWORK, META).is_conflict


@pytest.mark.parametrize(
    ("pack", "name"),
    [("ComfyUI-Impact-Pack", "nodepack-comfyui-impact-pack"), ("comfyui_controlnet_aux", "nodepack-comfyui-controlnet-aux"),
     ("ComfyUI.Foo  Bar!", "nodepack-comfyui-foo-bar"), ("___", "nodepack-pack")],
    ids=["dashes", "underscores", "odd-characters", "nothing-left"],
)
def test_meta_names_are_valid_distribution_names(pack: str, name: str) -> None:
    assert meta_name(pack) == name


def test_packs_that_normalise_alike_get_distinct_names() -> None:
    names = meta_names(["Foo_Bar", "foo-bar", "FOO.BAR"])
    assert len(set(names.values())) == 3
