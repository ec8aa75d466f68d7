"""The layers and the no-cycles rule (pyproject.toml, ``[tool.importlinter]``) hold for the whole package."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_imports_keep_the_declared_layers_and_have_no_cycles():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(  # noqa: S603 - the venv's own lint-imports, fixed arguments
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
