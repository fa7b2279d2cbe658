"""Load the vendored platform examples and signature vectors (tests/fixtures/platforms)."""

import json
from pathlib import Path
from typing import Any

PLATFORMS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"


def load_example(platform_dir: str, name: str) -> dict:
    """Return examples/<name> of a platform folder; `name` may omit ".json"."""
    filename = name if name.endswith(".json") else f"{name}.json"
    return _load(PLATFORMS_DIR / platform_dir / "examples" / filename)


def example_names(platform_dir: str) -> set[str]:
    """Return the file names in a platform folder's examples/, to check each one is tested."""
    return {path.name for path in (PLATFORMS_DIR / platform_dir / "examples").glob("*.json")}


def load_vectors(platform_dir: str) -> dict:
    """Return the platform folder's signature_vectors.json."""
    return _load(PLATFORMS_DIR / platform_dir / "signature_vectors.json")


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
