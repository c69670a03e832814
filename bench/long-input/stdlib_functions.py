"""Functions of the Python standard library with a docstring, for npm run eval:long (bench/eval-long.ts).

Prints JSON: {"python": version, "stdlib": path, "functions": [{"id", "query", "body"}]}, where `query` is the
function's docstring (inspect-cleaned) and `body` its source from the `def` line on with the docstring's lines
removed. Only functions whose body has at least MIN_BODY_CHARS characters (the caller keeps those over 256 word
pieces) and whose docstring has at least MIN_QUERY_WORDS words; test suites and demos are skipped. No packages needed.
"""
import ast
import json
import os
import platform
import sys
import sysconfig

MIN_BODY_CHARS = 600
MIN_QUERY_WORDS = 5
SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__", "turtledemo", "ensurepip", "dist-packages"}


def functions(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            path = os.path.join(dirpath, name)
            try:
                with open(path, encoding="utf-8") as f:
                    source = f.read()
                tree = ast.parse(source)
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue
            lines = source.splitlines()
            rel = os.path.relpath(path, root)
            for node in ast.walk(tree):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                doc = ast.get_docstring(node, clean=True)
                if not doc or len(doc.split()) < MIN_QUERY_WORDS:
                    continue
                expr = node.body[0]
                # A docstring on the def line cannot be removed by lines.
                if expr.lineno == node.lineno:
                    continue
                body_lines = lines[node.lineno - 1 : expr.lineno - 1] + lines[expr.end_lineno : node.end_lineno]
                body = "\n".join(body_lines)
                if len(body) < MIN_BODY_CHARS:
                    continue
                yield {"id": f"{rel}:{node.lineno}:{node.name}", "query": doc, "body": body}


def main():
    root = sysconfig.get_paths()["stdlib"]
    print(json.dumps({"python": platform.python_version(), "stdlib": root, "functions": list(functions(root))}))


if __name__ == "__main__":
    sys.exit(main())
