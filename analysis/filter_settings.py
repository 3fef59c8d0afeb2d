"""The quality filter a team settled on, saved in the workspace (`filters.json`).

It holds the rules in force (a preset's rules, with any threshold the user edited, and
rules switched on or off) and the rules switched off per source (code fails most prose
rules, and that is expected). The Quality & PII page edits it; `mixlens filter` and the
data-mix step read it to report tokens after filtering.
"""

from __future__ import annotations

import json
from pathlib import Path

from .workspace import Workspace, write_json

FILE = "filters.json"
DEFAULT_PRESET = "gopher"


def default(preset: str = DEFAULT_PRESET) -> dict:
    from .rules import load_presets

    presets = load_presets()
    if preset not in presets:
        raise ValueError(f"unknown preset '{preset}' (choose from {', '.join(presets)})")
    return {"preset": preset, "rules": [dict(r, enabled=True) for r in presets[preset]], "disabled": {}}


def load(workspace: Workspace) -> dict:
    path = Path(workspace.root) / FILE
    if path.exists():
        return json.loads(path.read_text())
    return default()


def save(workspace: Workspace, config: dict) -> None:
    write_json(Path(workspace.root) / FILE, config)


def active_rules(config: dict) -> list[dict]:
    return [r for r in config["rules"] if r.get("enabled", True)]


def disabled_sets(config: dict) -> dict[str, set[str]]:
    return {source: set(rules) for source, rules in config.get("disabled", {}).items()}
