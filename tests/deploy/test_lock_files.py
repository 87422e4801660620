"""The lock files and pyproject.toml agree (issue 17, item 7).

``requirements.lock`` (the image's) pins the runtime dependencies and the build backend,
``requirements-dev.lock`` the runtime and the dev extras, each within the range
pyproject.toml asks for, each with the hashes of its files, and both at the same versions.
``.ci/lock`` writes them; run it after changing a dependency.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
REFRESH = "run .ci/lock (README, 'Running in production')"
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def read_lock(name: str) -> dict[str, tuple[Version, Requirement, int]]:
    """name -> (pinned version, the requirement, how many hashes) of a lock file."""
    text = (ROOT / name).read_text(encoding="utf-8")
    entries: dict[str, tuple[Version, Requirement, int]] = {}
    for logical in text.replace("\\\n", " ").splitlines():
        line = logical.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        hashes = len(HASH.findall(line))
        requirement = Requirement(HASH.sub("", line).strip())
        [spec] = requirement.specifier
        assert spec.operator == "==", f"{name}: {line[:80]} is not pinned"
        key = canonicalize_name(requirement.name)
        # The universal lock may fork a package by Python version (two pins, each under its
        # own marker); the pin that applies here is the one this interpreter installs.
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        assert key not in entries, f"{name}: {key} pinned twice"
        entries[key] = (Version(spec.version), requirement, hashes)
    return entries


RUNTIME = read_lock("requirements.lock")
DEV = read_lock("requirements-dev.lock")


def declared(*groups: str) -> list[Requirement]:
    found = []
    for group in groups:
        if group == "build-system":
            found += PYPROJECT["build-system"]["requires"]
        elif group == "project":
            found += PYPROJECT["project"]["dependencies"]
        else:
            found += PYPROJECT["project"]["optional-dependencies"][group]
    return [Requirement(r) for r in found]


@pytest.mark.parametrize(
    ("lock", "groups"),
    [
        ("requirements.lock", ("project", "build-system")),
        ("requirements-dev.lock", ("project", "dev")),
    ],
)
def test_every_declared_dependency_is_pinned_within_its_range(
    lock: str, groups: tuple[str, ...]
) -> None:
    pins = RUNTIME if lock == "requirements.lock" else DEV
    requirements = declared(*groups)
    assert requirements
    for requirement in requirements:
        key = canonicalize_name(requirement.name)
        assert key in pins, f"{requirement} is not in {lock}: {REFRESH}"
        version = pins[key][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {key}=={version}, outside {requirement}: {REFRESH}"
        )


@pytest.mark.parametrize("pins", [RUNTIME, DEV], ids=["requirements.lock", "dev"])
def test_every_pin_carries_hashes(pins: dict[str, tuple[Version, Requirement, int]]) -> None:
    unhashed = [name for name, (_, _, hashes) in pins.items() if hashes == 0]
    assert unhashed == []


def test_both_locks_pin_the_same_versions() -> None:
    shared = (RUNTIME.keys() & DEV.keys()) - {"setuptools"}
    assert shared >= {canonicalize_name(r.name) for r in declared("project")}
    differ = {name: (RUNTIME[name][0], DEV[name][0]) for name in shared}
    assert {n: v for n, v in differ.items() if v[0] != v[1]} == {}, REFRESH


def test_one_http_client() -> None:
    """aiohttp (which aiogram brings) is the only HTTP client in the tree."""
    assert "aiohttp" in RUNTIME
    assert not {"httpx", "respx"} & (RUNTIME.keys() | DEV.keys())
