"""Builds the `vcp` extension module: libvcp.a from this repository with CMake, then python/src/vcp_module.cpp
against it with pybind11 (Debian's pybind11-dev headers), linked statically so the wheel needs no libvcp.so.

VCP_BUILD_DIR=DIR reuses an existing CMake build of the repository (it must have been configured by this
repository's CMakeLists.txt, which builds position-independent code); only its `vcp` target is (re)built. Otherwise a
private Release build without CUDA, tests or benchmarks is configured under setuptools' build_temp.
VCP_BUILD_JOBS=N sets the build's parallelism (default: the CPU count).
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def version():
    text = (REPO / "include" / "vcp" / "version.h").read_text()
    return re.search(r'#define VCP_VERSION_STRING "([^"]+)"', text).group(1)


def pybind11_include():
    # Debian's pybind11-dev installs the headers only (no Python package); a pip-installed pybind11 also works.
    try:
        import pybind11

        return [pybind11.get_include()]
    except ImportError:
        return []


class CMakeBuildExt(build_ext):
    def build_extensions(self):
        build_dir = os.environ.get("VCP_BUILD_DIR")
        jobs = os.environ.get("VCP_BUILD_JOBS", str(os.cpu_count() or 1))
        if build_dir:
            build_dir = Path(build_dir).resolve()
        else:
            # Under build_temp (python/build/ for pip's in-tree build), so a second install rebuilds nothing.
            build_dir = Path(self.build_temp).resolve() / "libvcp"
            configure = ["cmake", "-S", str(REPO), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
                         "-DVCP_WITH_CUDA=OFF", "-DVCP_BUILD_TESTS=OFF", "-DVCP_BUILD_BENCH=OFF"]
            if shutil.which("ninja"):
                configure += ["-G", "Ninja"]
            if shutil.which("ccache"):
                configure += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
            if not (build_dir / "CMakeCache.txt").exists():
                subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "vcp", "-j", jobs], check=True)
        library = build_dir / "lib" / "libvcp.a"
        if not library.exists():
            raise RuntimeError(f"{library} is missing after building the `vcp` target in {build_dir}")
        for ext in self.extensions:
            ext.extra_objects = [str(library)]
            ext.depends.append(str(library))  # relink when libvcp changed
        super().build_extensions()


setup(
    version=version(),
    ext_modules=[
        Extension(
            "vcp",
            sources=["src/vcp_module.cpp"],
            depends=["src/vcp_module.map"],
            include_dirs=[str(REPO / "include"), str(REPO / "lib")] + pybind11_include(),
            language="c++",
            extra_compile_args=["-std=c++20", "-O2", "-fvisibility=hidden"],
            # libvcp's public dependencies (lib/CMakeLists.txt: OpenSSL::Crypto, libsodium, Threads, dl). The version
            # script exports PyInit_vcp alone.
            libraries=["crypto", "sodium", "dl"],
            extra_link_args=["-pthread", f"-Wl,--version-script={HERE / 'src' / 'vcp_module.map'}"],
        )
    ],
    cmdclass={"build_ext": CMakeBuildExt},
    zip_safe=False,
)
