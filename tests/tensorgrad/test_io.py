"""tg.save / tg.load: one .npz, no pickle, exact round trips."""

import errno
import math
import os
import pickle
import re
import zipfile
from collections import OrderedDict

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import tensorgrad as tg
from tensorgrad import optim


def _assert_same(a, b):
    """Deep equality that also checks types, dtypes and exact array contents."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        assert type(x) is type(y), (x, y)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape
            np.testing.assert_array_equal(x, y)
        elif isinstance(x, dict):
            assert list(x) == list(y)
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list | tuple):
            assert len(x) == len(y)
            stack.extend(zip(x, y))
        elif isinstance(x, float) and math.isnan(x):
            assert math.isnan(y)
        else:
            assert x == y


def test_nested_structures_round_trip_exactly(tmp_path):
    obj = {
        "state": {0: {"step": 3, "buf": np.arange(6.0).reshape(2, 3)}, 7: {}},
        "param_groups": [
            {"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 7], "nesterov": False, "x": None}
        ],
        "od": OrderedDict([("z", np.float32(2.5)), ("a", np.zeros((2, 0), np.float32))]),
        "floats": [0.1, 1e-300, -0.0, float("inf"), float("-inf"), float("nan"), 1 / 3],
        "ints": [0, -5, 10**30, True],
        "text": 'quotes " and \\ and unicode é ∂',
        "arrays": [np.arange(4, dtype=np.int32), np.array([True, False]), np.array(["a", "bc"])],
        (1, ("a", None)): "tuple key",
        2.5: "float key",
        "empty": [[], {}, ()],
        "scalar0d": np.array(3.0),
    }
    path = tmp_path / "obj.npz"
    tg.save(obj, path)
    out = tg.load(path)
    _assert_same(obj, out)
    assert math.copysign(1.0, out["floats"][2]) == -1.0  # -0.0 kept


def test_file_is_one_npz_without_pickle_and_path_is_used_as_given(tmp_path):
    path = tmp_path / "model.weights"
    tg.save({"w": np.ones(3)}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.weights"]  # no ".npz" appended
    with np.load(path, allow_pickle=False) as npz:  # readable by NumPy alone
        assert "__minigrad__" in npz.files
        assert all(npz[k].dtype != object for k in npz.files)
    with zipfile.ZipFile(path) as z:
        assert all(name.endswith(".npy") for name in z.namelist())


def test_compressed_files_load_too(tmp_path):
    tg.save({"w": np.zeros(1000)}, tmp_path / "a.npz", compress=True)
    tg.save({"w": np.zeros(1000)}, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").stat().st_size < (tmp_path / "b.npz").stat().st_size
    np.testing.assert_array_equal(tg.load(tmp_path / "a.npz")["w"], np.zeros(1000))


def test_tensors_and_parameters_come_back_as_such(tmp_path):
    t = tg.tensor(np.arange(3, dtype=np.float32), requires_grad=True)
    p = tg.Parameter([1.0, 2.0])
    c = tg.tensor([5.0])
    tg.save({"t": t, "p": p, "c": c}, tmp_path / "t.npz")
    out = tg.load(tmp_path / "t.npz")
    assert type(out["t"]) is tg.Tensor and out["t"].requires_grad and out["t"].dtype == np.float32
    assert type(out["p"]) is tg.Parameter and out["p"].requires_grad
    assert type(out["c"]) is tg.Tensor and not out["c"].requires_grad
    np.testing.assert_array_equal(out["p"].data, [1.0, 2.0])


def test_integer_and_bool_tensors_keep_their_dtype(tmp_path):
    ints = tg.tensor([1, 2], dtype=np.int64)
    mask = tg.tensor([1.0, 2.0]) > 1
    tg.save({"ints": ints, "mask": mask}, tmp_path / "t.npz")
    out = tg.load(tmp_path / "t.npz")
    assert out["ints"].dtype == np.int64 and out["mask"].dtype == np.bool_
    np.testing.assert_array_equal(out["ints"].data, [1, 2])
    np.testing.assert_array_equal(out["mask"].data, [False, True])


def test_object_arrays_are_refused_with_the_file_name(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, a=np.array([{}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="evil.npz.*pickle"):
        tg.load(path)


def test_cannot_save_what_would_need_pickle(tmp_path):
    with pytest.raises(TypeError, match="object array"):
        tg.save({"a": np.array([{}], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="set"):
        tg.save({"a": {1, 2}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="key"):
        tg.save({(1, np.zeros(2).tobytes()): 1}, tmp_path / "x.npz")
    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        tg.save(loop, tmp_path / "x.npz")
    assert not any(tmp_path.iterdir())  # failed saves leave nothing behind


def test_a_failed_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / "keep.npz"
    tg.save({"w": np.ones(2)}, path)
    with pytest.raises(TypeError):
        tg.save({"w": object()}, path)
    np.testing.assert_array_equal(tg.load(path)["w"], np.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["keep.npz"]


def test_plain_npz_and_bad_files(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.ones(2), b=np.arange(3))
    out = tg.load(tmp_path / "plain.npz")
    assert sorted(out) == ["a", "b"]
    (tmp_path / "junk.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="junk.npz"):
        tg.load(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "missing.npz")


def test_model_state_dict_round_trip(tmp_path):
    model = tg.nn.MLP(3, [4, 2], rng=0)
    tg.save(model.state_dict(), tmp_path / "m.npz")
    state = tg.load(tmp_path / "m.npz")
    assert list(state) == [n for n, _ in model.named_parameters()]
    fresh = tg.nn.MLP(3, [4, 2], rng=1)
    fresh.load_state_dict(state)
    for (_, a), (_, b) in zip(model.named_parameters(), fresh.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
        lambda ps: optim.AdamW(ps, lr=0.01),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    ],
)
def test_training_continues_bit_for_bit_after_save_and_load(tmp_path, make_opt):
    X, y = tg.data.make_moons(64, rng=0)
    X = tg.tensor(X)

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            loss = tg.nn.functional.cross_entropy(model(X), y)
            loss.backward()
            opt.step()

    model = tg.nn.MLP(2, [8, 2], rng=0)
    opt = make_opt(model.parameters())
    train(model, opt, 5)
    tg.save({"model": model.state_dict(), "optim": opt.state_dict()}, tmp_path / "ckpt.npz")
    train(model, opt, 5)

    ckpt = tg.load(tmp_path / "ckpt.npz")
    model2 = tg.nn.MLP(2, [8, 2], rng=99)
    opt2 = make_opt(model2.parameters())
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optim"])
    train(model2, opt2, 5)
    for (_, a), (_, b) in zip(model.named_parameters(), model2.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    _assert_same(opt.state_dict(), opt2.state_dict())


_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False),
    st.floats(allow_nan=False).map(np.float64),  # a float subclass: must stay np.float64
    st.integers(-(2**63), 2**63 - 1).map(np.int64),
    st.text(max_size=8),
    hnp.arrays(
        dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_]),
        shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
    ),
)
_keys = st.one_of(st.text(max_size=5), st.integers(-5, 5))
_trees = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(_keys, children, max_size=4),
    ),
    max_leaves=12,
)


@given(tree=_trees)
def test_random_nested_structures_round_trip(tmp_path_factory, tree):
    path = tmp_path_factory.mktemp("h") / "tree.npz"
    tg.save(tree, path)
    _assert_same(tree, tg.load(path))


def test_a_single_npy_file_is_refused_clearly(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(3))
    with pytest.raises(ValueError, match=r"a\.npy.*single \.npy array, not an \.npz archive"):
        tg.load(tmp_path / "a.npy")
    np.save(tmp_path / "obj.npy", np.array([{}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"obj\.npy.*single \.npy array"):
        tg.load(tmp_path / "obj.npy")  # refused before np.load could unpickle anything
    (tmp_path / "raw.pkl").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match=r"raw\.pkl.*pickle"):
        tg.load(tmp_path / "raw.pkl")


def test_a_file_that_is_no_archive_is_not_called_a_pickle(tmp_path):
    (tmp_path / "notes.txt").write_bytes(b"hello, these are notes")
    with pytest.raises(ValueError, match=r"notes\.txt.*not an \.npz file.*not a zip") as info:
        tg.load(tmp_path / "notes.txt")
    assert "pickle" not in str(info.value)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_save_gives_the_file_the_mode_open_would(tmp_path):
    old_umask = os.umask(0o027)
    try:
        tg.save({"w": np.ones(2)}, tmp_path / "new.npz")
        assert os.stat(tmp_path / "new.npz").st_mode & 0o777 == 0o640  # 0o666 & ~umask
        (tmp_path / "old.npz").write_bytes(b"")
        os.chmod(tmp_path / "old.npz", 0o644)
        os.umask(0o077)
        tg.save({"w": np.ones(2)}, tmp_path / "old.npz")
        assert os.stat(tmp_path / "old.npz").st_mode & 0o777 == 0o644  # an existing file keeps it
    finally:
        os.umask(old_umask)


def test_save_errors_name_the_path_given_and_leave_nothing_behind(tmp_path, monkeypatch):
    missing = tmp_path / "nodir" / "x.npz"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))) as info:
        tg.save({"w": 1}, missing)
    assert ".tmp" not in str(info.value)
    folder = tmp_path / "d"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=re.escape(str(folder))) as info:
        tg.save({"w": 1}, folder)
    assert ".tmp" not in str(info.value)
    path = tmp_path / "keep.npz"
    tg.save({"w": np.ones(2)}, path)

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", src, dst)

    with monkeypatch.context() as m:  # a failure after the temporary file is written
        m.setattr(os, "replace", refuse)
        with pytest.raises(PermissionError, match=re.escape(str(path))) as info:
            tg.save({"w": np.zeros(2)}, path)
    assert ".tmp" not in str(info.value)
    np.testing.assert_array_equal(tg.load(path)["w"], np.ones(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "keep.npz"]
    assert not any(folder.iterdir())


def test_numpy_number_keys_load_as_equal_python_numbers(tmp_path):
    obj = {np.int64(1): "a", np.float32(0.5): "b", (np.int8(2), "x"): "c", np.uint8(3): "d"}
    tg.save(obj, tmp_path / "k.npz")
    out = tg.load(tmp_path / "k.npz")
    assert out == obj
    assert [type(k) for k in out] == [int, float, tuple, int]
    assert type(list(out)[2][0]) is int


def test_nesting_is_limited_clearly_and_a_failed_save_changes_nothing(tmp_path):
    path = tmp_path / "deep.npz"
    deep: dict = {}
    for _ in range(99):
        deep = {"k": deep}  # 100 dicts: the limit
    tg.save(deep, path)
    assert tg.load(path) == deep
    for too_deep in ({"k": deep}, _nested_lists(5000)):
        with pytest.raises(ValueError, match="save: .*nested more than 100 "):
            tg.save(too_deep, path)
    assert tg.load(path) == deep
    assert [p.name for p in tmp_path.iterdir()] == ["deep.npz"]


def _nested_lists(depth):
    out: list = []
    for _ in range(depth - 1):
        out = [out]
    return out


def test_a_header_nested_too_deep_for_json_is_called_damaged(tmp_path):
    path = tmp_path / "deep.npz"
    header = '{"format": "minigrad.npz", "version": 1, "tree": ' + "[" * 5000 + "]" * 5000 + "}"
    np.savez(path, __minigrad__=np.array(header))
    with pytest.raises(ValueError, match=r"deep\.npz.*damaged"):
        tg.load(path)


@pytest.mark.parametrize("header", ["5", "[1]", '"x"', "null"])
def test_a_header_that_is_json_but_not_an_object_is_called_damaged(tmp_path, header):
    """header.get(...) raised AttributeError on a number, a list or a string."""
    path = tmp_path / "h.npz"
    np.savez(path, __minigrad__=np.array(header))
    with pytest.raises(ValueError, match=r"h\.npz.*damaged minigrad header: a JSON"):
        tg.load(path)


def test_a_zip_that_holds_more_than_arrays_is_refused_naming_the_member(tmp_path):
    """A PyTorch checkpoint is a zip too: NumPy hands its other members out as raw bytes,
    so load gave a dict of bytes that load_state_dict then called "unexpected keys"."""
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model/data.pkl", b"\x80\x04N.")
        archive.writestr("model/version", b"3\n")
    with pytest.raises(ValueError, match=r"member 'model/data.pkl' is not a .npy array"):
        tg.load(path)


def test_an_npz_with_a_directory_entry_still_loads(tmp_path):
    """`zip -r` adds entries for folders: they hold no data and are no reason to refuse."""
    path = tmp_path / "arrays.npz"
    np.savez(path, w=np.arange(3.0))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("sub/", b"")
    np.testing.assert_array_equal(tg.load(path)["w"], [0.0, 1.0, 2.0])
