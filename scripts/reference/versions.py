"""Prints the versions of the named Python packages as one JSON line, or fails naming the missing one.

    python scripts/reference/versions.py torch transformers peft gguf

`temper-bench` runs this first, so that a Python without the reference's packages is reported in a
second instead of after Temper's own measurement, and so that every comparison prints the versions
it was measured with.
"""
import importlib
import importlib.metadata
import json
import platform
import sys


def versions(modules):
    """{module: version} for each module, plus the Python version; raises ImportError if one is missing."""
    found = {"python": platform.python_version()}
    for name in modules:
        module = importlib.import_module(name)
        # __version__ carries the build (torch's "+cpu" or "+cu132"); gguf has none, its package does.
        found[name] = getattr(module, "__version__", None) or distribution_version(name)
    return found


def distribution_version(name):
    """The installed distribution's version, for modules without __version__."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    try:
        print(json.dumps(versions(sys.argv[1:])))
    except ImportError as error:
        sys.exit(f"{error} (in {sys.executable})")
