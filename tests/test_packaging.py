"""What `pip install -e .` (no extras) brings must cover every import under src/."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = Path(__file__).resolve().parents[1]


def third_party_imports() -> dict[str, str]:
    """Top-level module imported -> the first file under src/ that imports it."""
    found: dict[str, str] = {}
    for path in sorted((PROJECT / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in {"usercenter", "__future__"}:
                    found.setdefault(top, str(path.relative_to(PROJECT)))
    return found


def runtime_distributions() -> set[str]:
    """The project's runtime dependencies and everything they require, extras included."""
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    pending = [Requirement(text) for text in pyproject["project"]["dependencies"]]
    seen: set[tuple[str, frozenset[str]]] = set()
    names: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        names.add(name)
        extras = {"", *requirement.extras}
        for text in metadata.requires(requirement.name) or []:
            child = Requirement(text)
            if child.marker is None or any(
                child.marker.evaluate({"extra": extra}) for extra in extras
            ):
                pending.append(child)
    return names


class TestRuntimeDependencies:
    def test_every_import_under_src_is_installed_without_extras(self) -> None:
        providers = metadata.packages_distributions()
        installed = runtime_distributions()
        missing = {
            module: where
            for module, where in third_party_imports().items()
            if not {canonicalize_name(d) for d in providers.get(module, [])} & installed
        }
        assert missing == {}, f"imported under src/ but not a runtime dependency: {missing}"

    def test_the_check_sees_the_imports(self) -> None:
        imports = third_party_imports()
        assert {"fastapi", "httpx", "sqlalchemy", "jwt"} <= set(imports)
