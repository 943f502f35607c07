"""Shared fixtures: a compile/native-code cache for the session and the
example UDF sources of the repository."""
import os

import pytest

import wudf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    # WUDF_PYTEST_CACHE keeps compiled modules between runs (make
    # python-test sets it); by default each session starts empty.
    d = os.environ.get("WUDF_PYTEST_CACHE")
    if d:
        os.makedirs(d, mode=0o700, exist_ok=True)
        return d
    return str(tmp_path_factory.mktemp("wudf-cache"))


@pytest.fixture(scope="session")
def compile_c(cache_dir):
    def compile_c(source, **kw):
        return wudf.compile(source, cache_dir=cache_dir, **kw)
    return compile_c


def example_source(name):
    with open(os.path.join(ROOT, "examples", "udfs", name + ".c")) as f:
        return f.read()


@pytest.fixture(scope="session")
def examples(compile_c):
    """The repository's example UDFs (examples/udfs), compiled."""
    return {name: compile_c(example_source(name), file_name=name + ".c")
            for name in ("calculate_adj_bal", "email_domain", "is_rich",
                         "upper")}
