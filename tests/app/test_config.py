"""Every setting the code reads is declared in DefaultConfig, with its default, in one place."""

import ast
from pathlib import Path

from tracker.config import DefaultConfig

ROOT = Path(__file__).resolve().parents[2]


def _is_config(node: ast.expr) -> bool:
    """``config``, ``app.config``, ``current_app.config``, ``self.config`` …"""
    return (isinstance(node, ast.Name) and node.id == "config") or (
        isinstance(node, ast.Attribute) and node.attr == "config"
    )


def _settings_read(root: Path = ROOT) -> dict[str, list[str]]:
    """Each constant key read from a config mapping in ``root/tracker``, with where it is read."""
    found: dict[str, list[str]] = {}
    for path in [*sorted((root / "tracker").rglob("*.py")), *sorted(root.glob("run.py"))]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            key = None
            if isinstance(node, ast.Subscript) and _is_config(node.value):
                key = node.slice
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("get", "setdefault")
                and _is_config(node.func.value)
                and node.args
            ):
                key = node.args[0]
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                where = f"{path.relative_to(root)}:{node.lineno}"
                found.setdefault(key.value, []).append(where)
    return found


def test_the_scan_finds_the_settings_the_code_reads():
    read = _settings_read()
    assert {"BASE_URL", "IMPORT_MAX_BYTES", "SMTP_HOST", "SESSION_MAX_HOURS"} <= set(read)


def test_every_setting_read_is_declared_with_a_default():
    declared = {name for name in vars(DefaultConfig) if name.isupper()}
    undeclared = {key: where for key, where in _settings_read().items() if key not in declared}
    assert undeclared == {}


def test_a_setting_read_without_a_declaration_is_caught(tmp_path):
    (tmp_path / "tracker").mkdir()
    probe = 'from flask import current_app\n\nVALUE = current_app.config.get("NOT_DECLARED_ANYWHERE")\n'
    (tmp_path / "tracker" / "probe.py").write_text(probe)
    assert _settings_read(tmp_path) == {"NOT_DECLARED_ANYWHERE": ["tracker/probe.py:3"]}
    assert "NOT_DECLARED_ANYWHERE" not in vars(DefaultConfig)


def test_settings_come_from_the_instance_folders_config_file(tmp_path, monkeypatch):
    from flask import Flask

    from tracker.config import load_config

    (tmp_path / "config.py").write_text('BOARD_CACHE_SECONDS = 7\nSCHEDULER = "off"\n')
    monkeypatch.setenv("TRACKER_SCHEDULER", "on")  # the environment still wins over the file
    app = Flask(__name__, instance_path=str(tmp_path))
    load_config(app, None)
    assert app.config["BOARD_CACHE_SECONDS"] == 7
    assert app.config["SCHEDULER"] == "on"
    # Only the instance file is read: the package's own module is not executed as settings.
    assert "DEFAULT_SECRET_KEY" not in app.config
