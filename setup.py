"""Package discovery for the one import name ``synth``: the repository keeps its folders (synth/,
scenes/, degradations/, shaders/; fixed by the product card) and every package below them is found
here, so a new subpackage lands in the wheel without an edit."""

from setuptools import find_packages, setup

FOLDERS = {"synth": "synth", "synth.scenes": "scenes", "synth.degradations": "degradations", "synth.shaders": "shaders"}
packages = [f"{name}.{sub}" for name, folder in FOLDERS.items() for sub in find_packages(folder)] + list(FOLDERS)
setup(packages=sorted(packages), package_dir={name: folder for name, folder in FOLDERS.items() if name != folder})
