"""Redraw the pictures the README shows: ``python docs/make_pictures.py``."""

import sys
from pathlib import Path

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent))  # demo.py lives at the top of the repository

import demo  # noqa: E402

if __name__ == "__main__":
    for path in demo.one_neuron_graphs(here):
        if path.suffix == ".html":
            path.unlink()  # the README shows the SVG
        else:
            print("wrote", path.relative_to(here.parent))
