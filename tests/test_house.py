"""House rules that keep the code readable: imports only go downward through the stages, no import circles, no
function longer than a screen without a reason written beside it, the CLI starts without torch, and
ARCHITECTURE.md names every module."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "core"
# the pipeline, bottom to top: a module may import its own stage and the stages below it
LAYERS = ["errors", "paths", "io", "model", "lenses", "motifs", "variants", "train", "reports", "cli"]
MAX_FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _core_imports(path: Path) -> set[str]:
    """Every core module imported anywhere in ``path`` (function-level imports included)."""
    tree = ast.parse(path.read_text())
    mod = _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("core"):
                out.add(target)
                out.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("core"))
    return out


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_imports_only_go_downward():
    bad = []
    for path in CORE.rglob("*.py"):
        if "assets" in path.parts:
            continue
        here = _stage(_module_name(path))
        if here is None:
            continue
        for target in _core_imports(path):
            there = _stage(target)
            if there in LAYERS and here in LAYERS and LAYERS.index(there) > LAYERS.index(here):
                bad.append(f"{_module_name(path)} imports {target}")
    assert not bad, "imports that go upward:\n" + "\n".join(sorted(bad))


def test_no_import_circles():
    modules = {_module_name(p): p for p in CORE.rglob("*.py") if "assets" not in p.parts}
    graph = {m: {t for t in _core_imports(p) if t in modules and t != m} for m, p in modules.items()}
    # packages' __init__ re-exports are edges too; find any cycle by depth-first search
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in graph[m]:
            if state.get(t) == 1 and not (m.startswith(t + ".") or t.startswith(m + ".")):
                cycles.append(stack[stack.index(t) :] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m)
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_functions_fit_on_a_screen():
    long = []
    for folder in (CORE, ROOT / "dashboard"):
        for path in folder.rglob("*.py"):
            if "assets" in path.parts:
                continue
            lines = path.read_text().splitlines()
            for node in ast.walk(ast.parse("\n".join(lines))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    n = node.end_lineno - node.lineno + 1
                    reason = "# long:" in lines[node.lineno - 1]
                    if n > MAX_FUNCTION_LINES and not reason:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, "functions longer than a screen (add '# long: <reason>' on the def line if needed):\n" + "\n".join(
        long
    )


def test_cli_parsing_does_not_import_torch():
    code = (
        "import sys; from core.cli.parser import build_parser; build_parser().parse_args(['motifs', 'x.fa', "
        "'--scores', 's.npy', '--no-jaspar', '--out', 'o']); "
        "heavy = [m for m in ('torch', 'transformers', 'pandas', 'matplotlib', 'plotly', 'memelite', "
        "'logomaker', 'scipy') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "", f"importing and parsing the CLI imported {out.stdout.strip()}"


def test_architecture_names_every_module():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    missing = []
    for path in sorted(CORE.rglob("*.py")) + sorted((ROOT / "dashboard").rglob("*.py")):
        if "assets" in path.parts or path.name == "__init__.py":
            continue
        rel = path.relative_to(ROOT).as_posix()
        if rel not in text:
            missing.append(rel)
    assert not missing, "modules ARCHITECTURE.md does not describe: " + ", ".join(missing)
