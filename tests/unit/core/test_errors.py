"""The error tree: exit codes and messages."""

from __future__ import annotations

import pytest

from rigfit.core import errors


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.UsageError, 2),
        (errors.ProfileError, 2),
        (errors.BudgetError, 2),
        (errors.PlanError, 2),
        (errors.HardwareError, 1),
        (errors.DownloadError, 1),
        (errors.ResolveError, 1),
        (errors.InstallError, 1),
        (errors.VerifyError, 1),
    ],
)
def test_exit_codes_follow_the_contract(cls: type[errors.RigfitError], code: int) -> None:
    assert issubclass(cls, errors.RigfitError)
    assert cls("x").exit_code == code


def test_catalog_error_carries_every_problem_and_summarises() -> None:
    err = errors.CatalogError(["a.json:models.x: bad", "a.json:models.y: worse", "b.json:z: missing"])
    assert err.problems == ("a.json:models.x: bad", "a.json:models.y: worse", "b.json:z: missing")
    assert str(err) == "a.json:models.x: bad (and 2 more problems)"
    assert err.exit_code == 2


def test_download_error_is_an_oserror_with_fields() -> None:
    err = errors.DownloadError("disk full", path="/x", needed=10, available=3)
    assert isinstance(err, OSError)
    assert (err.needed, err.available, str(err)) == (10, 3, "disk full")
