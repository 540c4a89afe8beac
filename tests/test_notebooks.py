"""Every teaching notebook in ``notebooks/`` runs from top to bottom without an error.

Each notebook is executed fresh (nbclient, the ``python3`` kernel, ``notebooks/`` as the
working directory) on a copy in memory: the committed file, with its outputs, is never
written. The notebooks assert their own numbers (gradients against finite differences and
so on), so a wrong gradient fails here as a cell error.

jupyter_client starts the ``python3`` kernel with the interpreter that runs pytest, so the
notebooks exercise the same installation as the rest of the tests; a last cell, added to
the copy only, checks that.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = [
    "01_chain_rule_with_values.ipynb",
    "02_scalars_vs_tensors.ipynb",
    "03_broadcasting_and_matmul.ipynb",
    "04_training.ipynb",
    "05_higher_order.ipynb",
]
CELL_TIMEOUT = 120  # seconds
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_the_five_notebooks_are_there() -> None:
    assert sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb")) == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name: str) -> None:
    path = NOTEBOOKS_DIR / name
    nb = nbformat.read(path, as_version=4)
    hint = f", but the tests run {sys.executable} (see `jupyter kernelspec list`)"
    check = (
        "import sys\n"
        f"assert sys.executable == {sys.executable!r}, "
        f"'the python3 kernel runs ' + sys.executable + {hint!r}"
    )
    nb.cells.append(nbformat.v4.new_code_cell(check))
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:
        message = ANSI.sub("", str(err))  # the kernel's traceback comes in color
        pytest.fail(f"{name}: a cell failed\n{message}", pytrace=False)
