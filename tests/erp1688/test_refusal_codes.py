"""Every refusal the product raises names its code from the one list (erp1688.refusal_codes), so a
code is written once and a new one is added where all the others are."""

import ast
from pathlib import Path

from erp1688.refusal_codes import RefusalCode

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("erp1688", "catalog", "sync", "open1688")


def _refusal_calls():
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func
                name = getattr(func, "id", None) or getattr(func, "attr", "")
                if name.endswith("Refused") or name == "_refused":
                    yield path.relative_to(ROOT), node.lineno, node.args[0]


def test_no_refusal_is_raised_with_a_bare_string():
    calls = list(_refusal_calls())
    assert len(calls) > 100  # the walk really finds the product's refusals
    bare = [
        f"{path}:{line}"
        for path, line, first in calls
        if isinstance(first, ast.Constant) and isinstance(first.value, str)
    ]
    assert bare == []


def test_every_listed_code_is_used_and_values_are_unique():
    named = {
        first.attr
        for _, _, first in _refusal_calls()
        if isinstance(first, ast.Attribute) and getattr(first.value, "id", "") == "RefusalCode"
    }
    assert set(RefusalCode.__members__) - named == set()  # no code listed and never raised
    values = [code.value for code in RefusalCode]
    assert len(values) == len(set(values))
