"""Builds the optional C half of redaction (plugins._jsonscan); everything else is in
pyproject.toml. Without a compiler the build goes on and plugins.redaction_fast uses its
pure-Python path."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("plugins._jsonscan", ["plugins/_jsonscan.c"], optional=True,
                             extra_compile_args=["-O2"])])
