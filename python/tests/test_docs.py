"""The examples of docs/python.md run, in order, in one namespace (from the
repository's root, with the default cache directory)."""
import os
import re

import pytest

from conftest import ROOT

DOC = os.path.join(ROOT, "docs", "python.md")


def blocks():
    with open(DOC, encoding="utf-8") as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


def test_doc_examples_run(monkeypatch):
    if not os.path.exists(DOC):
        pytest.skip("docs/python.md is not in this tree")
    monkeypatch.chdir(ROOT)
    ns = {}
    code = blocks()
    assert len(code) >= 8
    for i, block in enumerate(code):
        try:
            exec(compile(block, "docs/python.md block %d" % (i + 1), "exec"),
                 ns)
        except Exception as e:  # the failing block, for the report
            raise AssertionError("block %d failed: %r\n%s"
                                 % (i + 1, e, block)) from e
