"""A numpy stand-in for the slice of PyTorch that tools/peers.py uses, so its GPU path (BlockMask
lists, mask_mod, permutation, gate, timing, checks, results file) runs in tests on a CPU.

FlexAttention here is a dense reference: the BlockMask's full blocks attended whole, its partial
blocks through its mask_mod evaluated on numpy index grids, every other pair masked — the
semantics of torch.nn.attention.flex_attention, with its conventions asserted (int32 lists,
kv_indices holding a slot per key block, seq_lengths equal to the inputs'). bf16 is computed in
float32. Not a PyTorch: only what peers.py calls.
"""
import contextlib
import types

import numpy as np

__version__ = "fake-numpy"
version = types.SimpleNamespace(cuda="none")
float32, float64, bfloat16 = np.dtype("float32"), np.dtype("float64"), "bfloat16"
int32, int64, uint8, bool_ = np.dtype("int32"), np.dtype("int64"), np.dtype("uint8"), np.dtype("bool")


def _np_dtype(dtype):
    return np.dtype("float32") if dtype == bfloat16 else np.dtype(dtype)


def _raw(x):
    return x.a if isinstance(x, Tensor) else x


class Tensor:
    def __init__(self, a, dtype=None):
        self.a = np.asarray(a)
        self.dtype = dtype or self.a.dtype

    shape = property(lambda self: self.a.shape)

    def _new(self, a):
        return Tensor(a, bfloat16 if self.dtype == bfloat16 and np.asarray(a).dtype.kind == "f"
                      else None)

    def to(self, target):
        if target in ("cuda", "cpu"):
            return Tensor(self.a.copy(), self.dtype)
        return Tensor(self.a.astype(_np_dtype(target)), target)

    def long(self):
        return Tensor(self.a.astype(np.int64))

    def double(self):
        return Tensor(self.a.astype(np.float64))

    def reshape(self, *shape):
        return self._new(self.a.reshape(*shape))

    def contiguous(self):
        return self

    def expand_as(self, other):
        return self._new(np.broadcast_to(self.a, other.shape))

    def index_select(self, dim, index):
        return self._new(np.take(self.a, _raw(index), axis=dim))

    def gather(self, dim, index):
        return self._new(np.take_along_axis(self.a, _raw(index), axis=dim))

    def index_copy_(self, dim, index, source):
        moved = np.moveaxis(self.a, dim, 0)
        moved[_raw(index)] = np.moveaxis(_raw(source), dim, 0)
        return self

    def scatter_(self, dim, index, source):
        np.put_along_axis(self.a, _raw(index), _raw(source), axis=dim)
        return self

    def masked_fill(self, mask, value):
        return self._new(np.where(_raw(mask), value, self.a))

    def clamp(self, min):
        return self._new(np.maximum(self.a, min))

    def square(self):
        return self._new(self.a ** 2)

    def sum(self):
        return self._new(self.a.sum())

    def abs(self):
        return self._new(np.abs(self.a))

    def max(self):
        return self._new(self.a.max())

    def all(self):
        return bool(self.a.all())

    def any(self):
        return bool(self.a.any())

    def __float__(self):
        return float(self.a)

    def __getitem__(self, index):
        index = tuple(_raw(i) for i in index) if isinstance(index, tuple) else _raw(index)
        return self._new(self.a[index])

    def __setitem__(self, index, value):
        self.a[index] = _raw(value)

    def __invert__(self):
        return self._new(~self.a)


def _binary(op):
    return lambda self, other: self._new(op(self.a, _raw(other)))


def _reflected(op):
    return lambda self, other: self._new(op(_raw(other), self.a))


for _name, _op in {"add": np.add, "sub": np.subtract, "mul": np.multiply,
                   "truediv": np.true_divide, "floordiv": np.floor_divide, "mod": np.mod,
                   "rshift": np.right_shift, "and": np.bitwise_and, "matmul": np.matmul,
                   "eq": np.equal, "ge": np.greater_equal, "lt": np.less}.items():
    setattr(Tensor, f"__{_name}__", _binary(_op))
    setattr(Tensor, f"__r{_name}__", _reflected(_op))


class Generator:
    def __init__(self, device=None):
        self.rng = np.random.default_rng(0)

    def manual_seed(self, seed):
        self.rng = np.random.default_rng(seed)
        return self


def randn(shape, generator, device=None, dtype=float32):
    return Tensor(generator.rng.standard_normal(shape).astype(_np_dtype(dtype)))


def frombuffer(buffer, dtype):
    return Tensor(np.frombuffer(bytes(buffer), dtype=dtype).copy())


def zeros(shape, dtype, device=None):
    return Tensor(np.zeros(shape, dtype=dtype))


def arange(n, device=None):
    return Tensor(np.arange(n))


def empty_like(x):
    return Tensor(np.zeros_like(x.a), x.dtype)


def zeros_like(x):
    return empty_like(x)


def softmax(x, dim):
    e = np.exp(x.a - x.a.max(axis=dim, keepdims=True))
    return x._new(e / e.sum(axis=dim, keepdims=True))


def compile(fn, dynamic=None):
    return fn


class _Event:
    def record(self):
        pass

    def synchronize(self):
        pass

    def elapsed_time(self, end):
        return 1.0


cuda = types.SimpleNamespace(
    is_available=lambda: True, get_device_name=lambda: "fake numpy device",
    synchronize=lambda: None, empty_cache=lambda: None, Event=lambda enable_timing: _Event())
backends = types.SimpleNamespace(cuda=types.SimpleNamespace(
    matmul=types.SimpleNamespace(allow_tf32=False)))
_dynamo = types.SimpleNamespace(config=types.SimpleNamespace(recompile_limit=8))


def _attention(q, k, v, allowed):
    """Softmax(q kᵀ / √d) v over the allowed pairs, float64 inside, in q's dtype."""
    scores = (q.a.astype(np.float64) @ np.swapaxes(k.a.astype(np.float64), -1, -2))
    scores = np.where(allowed, scores / np.sqrt(q.shape[-1]), -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    out = (weights / weights.sum(axis=-1, keepdims=True)) @ v.a.astype(np.float64)
    return Tensor(out.astype(q.a.dtype), q.dtype)


nn = types.SimpleNamespace(functional=types.SimpleNamespace(
    scaled_dot_product_attention=lambda q, k, v: _attention(q, k, v, True)))


@contextlib.contextmanager
def _sdpa_kernel(backend):
    yield
