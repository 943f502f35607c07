"""Builds the extension wudf._wudf against libwudf.

libwudf is built from this repository's sources by its Makefile
(`make lib`, into <repo>/build unless WUDF_BUILD_DIR says otherwise) and
linked statically, its symbols hidden, so the wheel needs no libwudf.so at
run time. The guest header (include/wudf_guest.h) is copied into the
package: wudf.compile() hands it to the sandboxed compiler.
"""
import os
import shutil
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.environ.get("WUDF_BUILD_DIR", os.path.join(ROOT, "build"))


def copy_guest_header():
    dst = os.path.join(HERE, "wudf", "include")
    os.makedirs(dst, exist_ok=True)
    shutil.copy2(os.path.join(ROOT, "include", "wudf_guest.h"), dst)


class BuildExt(build_ext):
    def run(self):
        if not os.path.exists(os.path.join(ROOT, "Makefile")):
            raise RuntimeError("wudf's Python package builds from the "
                               "repository: %s has no Makefile" % ROOT)
        jobs = os.environ.get("WUDF_MAKE_JOBS", "2")
        subprocess.run(["make", "-C", ROOT, "-j" + jobs,
                        "BUILD=" + os.path.relpath(BUILD, ROOT),
                        os.path.relpath(os.path.join(BUILD, "libwudf.a"),
                                        ROOT)],
                       check=True)
        copy_guest_header()
        super().run()


copy_guest_header()

ext = Extension(
    "wudf._wudf",
    sources=["src/_wudf.c"],
    include_dirs=[os.path.join(ROOT, "include")],
    extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-Wno-missing-field-initializers",
                        "-Wno-cast-function-type"],
    # libwudf's symbols stay inside the extension; nodelete because the
    # library installs signal handlers and a thread-exit destructor.
    extra_link_args=[os.path.join(BUILD, "libwudf.a"), "-lm", "-lpthread",
                     "-ldl", "-lrt", "-Wl,--exclude-libs,ALL",
                     "-Wl,-z,nodelete"],
    depends=[os.path.join(ROOT, "include", "wudf.h"),
             os.path.join(ROOT, "include", "wudf_compile.h")],
)

setup(ext_modules=[ext], cmdclass={"build_ext": BuildExt})
