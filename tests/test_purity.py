"""The analysis library stays pure: no Streamlit, and its heavy imports stay lazy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ANALYSIS = Path(__file__).resolve().parent.parent / "analysis"


def test_no_analysis_module_imports_streamlit():
    offenders = []
    for path in sorted(ANALYSIS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("streamlit", "dashboard")]
    assert offenders == []


def test_importing_every_analysis_module_loads_no_streamlit():
    modules = [f"analysis.{p.stem}" for p in ANALYSIS.glob("*.py") if p.stem != "__init__"]
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_analysis_module_opens_with_a_docstring():
    missing = [p.name for p in ANALYSIS.glob("*.py") if not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []
