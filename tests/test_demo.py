"""``make demo``'s main function on a tiny setting: the table's numbers and the files it writes."""

import shutil
import xml.etree.ElementTree as ET

import pytest

import demo

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="graphviz's dot program is not installed"
)


@needs_dot
def test_demo_trains_both_engines_and_writes_its_files(tmp_path, capsys):
    result = demo.main(steps=4, samples=20, out=tmp_path)
    scalar, tensor = result["runs"]

    # Same initial weights, same data: the engines compute the same numbers.
    assert result["grad_diff"] < 1e-12
    assert len(scalar.losses) == len(tensor.losses) == 4
    for a, b in zip(scalar.losses, tensor.losses):
        assert a == pytest.approx(b, rel=1e-10, abs=1e-12)
    assert scalar.accuracies == tensor.accuracies

    names = {p.name for p in result["files"]}
    assert names == {
        "neuron_micrograd.svg",
        "neuron_tensorgrad.svg",
        "side_by_side.html",
        "side_by_side.svg",
        "loss_curves.png",
        "decision_boundary.png",
    }
    for path in result["files"]:
        assert path.parent == tmp_path and path.stat().st_size > 0
        if path.suffix == ".svg":
            ET.parse(path)  # well-formed SVG
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "side_by_side.html").read_text().count("<svg") == 2
    assert "tanh" in (tmp_path / "neuron_micrograd.svg").read_text()

    printed = capsys.readouterr().out
    assert "faster per step" in printed and str(tmp_path.resolve()) in printed


def test_demo_without_dot_writes_the_plots_and_the_dot_sources(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no dot program to be found
    result = demo.main(steps=2, samples=20, out=tmp_path)
    names = {p.name for p in result["files"]}
    assert names == {
        "loss_curves.png",
        "decision_boundary.png",
        "neuron_micrograd.dot",
        "neuron_tensorgrad.dot",
    }
    assert (tmp_path / "neuron_micrograd.dot").read_text().lstrip().startswith("digraph")
    assert "dot is not installed" in capsys.readouterr().out
