#!/usr/bin/env python3
"""Runs PyTorch on exactly the cases Longshot measures, for a side-by-side table (docs/peers.md).

Reads the manifest of `deno task plan --export-layouts DIR` and, per case, on one CUDA GPU:
  - torch-sdpa  (dense cases only): F.scaled_dot_product_attention, f32 on the memory-efficient
    backend, bf16 on the flash backend;
  - torch-flex  (every case): torch.compile(flex_attention) with a BlockMask built from the
    exported block lists: full blocks run unmasked, partial blocks through a mask_mod that reads
    the exported bits, so the peer attends exactly the pairs Longshot counts.
Q/K/V are seeded standard normal [1, heads, L, d]. A permuted layout (STA, MoC, MoGA) is run the
way Longshot's kernel runs it: gather Q/K/V into the layout's order, attend, scatter back (and
apply MoGA's output gate), all inside the timed region. Latency: CUDA events around each call,
warm-up first, median / p10 / p90 of the repeats. Every output is checked on sampled rows against
a float64 reference that applies the exported mask row by row.

Writes a `longshot.peers/1` results file with Longshot's case fields, so `deno task report
RESULTS --peers FILE` shows Longshot / PyTorch per case.

    python3 tools/peers.py MANIFEST... --out peers.json [--peers sdpa,flex] [--dtypes f32,bf16]
    python3 tools/peers.py MANIFEST... --dry-run    # no torch needed: check the export, list cases

Needs only the standard library for --dry-run; PyTorch >= 2.5 with CUDA (and Triton) otherwise.
"""
import argparse
import array
import ast
import datetime
import hashlib
import itertools
import json
import math
import os
import random
import sys
import tempfile
import time

PEERS_SCHEMA = "longshot.peers/1"
LAYOUTS_SCHEMA = "longshot.layouts/1"
PEERS = ("sdpa", "flex")
DTYPES = ("f32", "bf16")
# relL2 against float64 above which a peer's output counts as wrong: bf16 keeps 8 significant
# bits (relL2 of order 1e-3 to 1e-2), f32 gives 1e-6 or so; a wrong mask or permutation gives
# relL2 of order 0.1 to 1.
TOLERANCE = {"f32": 2e-3, "bf16": 3e-2}
NPY_TYPES = {"<i4": ("i", 4), "|u1": ("B", 1), "<f4": ("f", 4)}


class InputError(Exception):
    """A manifest or layout file that cannot be used; the message names the file and field."""


def read_npy(path, want_descr, want_shape=None):
    """An npy v1-3 file as (shape, memoryview of its elements); checks descr, order and size."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})")
    if data[:6] != b"\x93NUMPY":
        raise InputError(f"{path}: not an npy file")
    major = data[6]
    if major not in (1, 2, 3):
        raise InputError(f"{path}: npy version {major} (allowed: 1, 2, 3)")
    start = 10 if major == 1 else 12
    length = int.from_bytes(data[8:start], "little")
    header = ast.literal_eval(data[start:start + length].decode("latin1"))
    if header.get("descr") != want_descr or header.get("fortran_order") is not False:
        raise InputError(f"{path}: descr {header.get('descr')!r}, fortran_order "
                         f"{header.get('fortran_order')} (expected {want_descr!r}, False)")
    shape = tuple(header["shape"])
    if want_shape is not None and shape[:len(want_shape)] != tuple(want_shape):
        raise InputError(f"{path}: shape {shape}, expected {tuple(want_shape)}...")
    code, size = NPY_TYPES[want_descr]
    body = memoryview(data)[start + length:]
    if len(body) != math.prod(shape) * size:
        raise InputError(f"{path}: {len(body)} data bytes, shape {shape} needs "
                         f"{math.prod(shape) * size}")
    return shape, body.cast(code) if size > 1 else body


class Layout:
    """One case's exported block lists (pure Python views; see docs/peers.md for the layout)."""

    def __init__(self, root, case):
        files = case["files"]
        self.tokens = case["tokens"]
        self.heads = case["layoutHeads"]
        self.block = case["blockSize"]
        self.blocks = case["blocks"]
        path = lambda name: os.path.join(root, files[name])
        hb = (self.heads, self.blocks)
        _, self.full_counts = read_npy(path("full_kv_num_blocks"), "<i4", hb)
        (_, _, self.full_width), self.full_idx = read_npy(path("full_kv_indices"), "<i4", hb)
        _, self.part_counts = read_npy(path("kv_num_blocks"), "<i4", hb)
        (_, _, self.part_width), self.part_idx = read_npy(path("kv_indices"), "<i4", hb)
        bits_shape, self.bits = read_npy(path("partial_bits"), "|u1")
        if len(bits_shape) != 3 or bits_shape[1:] != (self.block, self.block // 8):
            raise InputError(f"{path('partial_bits')}: shape {bits_shape}, expected "
                             f"(P, {self.block}, {self.block // 8})")
        self.partials = bits_shape[0]
        self.perm = None
        self.scale = None
        if files.get("permutation"):
            _, self.perm = read_npy(path("permutation"), "<i4", (self.heads, self.tokens))
        if files.get("output_scale"):
            _, self.scale = read_npy(path("output_scale"), "<f4", (self.heads, self.tokens))
        self.partial_start = [0] + list(itertools.accumulate(self.part_counts))

    def check(self, case):
        """Raises InputError unless indices are in range and the pairs match the manifest's."""
        where = case["caseKey"]
        for name, counts, idx, width in (("full", self.full_counts, self.full_idx, self.full_width),
                                         ("partial", self.part_counts, self.part_idx,
                                          self.part_width)):
            if min(counts) < 0 or max(counts) > width:
                raise InputError(f"{where}: {name} block counts outside 0..{width}")
            if len(idx) and (min(idx) < 0 or max(idx) >= self.blocks):
                raise InputError(f"{where}: {name} block index outside 0..{self.blocks - 1}")
        if self.partial_start[-1] != self.partials:
            raise InputError(f"{where}: kv_num_blocks sum to {self.partial_start[-1]}, "
                             f"partial_bits holds {self.partials} blocks")
        per_block = self.block * self.block // 8
        for h in range(self.heads):
            rows = slice(h * self.blocks, (h + 1) * self.blocks)
            first = self.partial_start[h * self.blocks] * per_block
            last = self.partial_start[(h + 1) * self.blocks] * per_block
            ones = int.from_bytes(self.bits[first:last], "little").bit_count()
            pairs = sum(self.full_counts[rows]) * self.block * self.block + ones
            if pairs != case["attendedPairs"][h]:
                raise InputError(f"{where}: head {h} lists {pairs} attended pairs, the manifest "
                                 f"counts {case['attendedPairs'][h]}")

    def original(self, h, p):
        """Original token at position p of layout head h's order."""
        return self.perm[h * self.tokens + p] if self.perm is not None else p

    def mask_row(self, h, p):
        """Keys (in the layout's order) that position p of layout head h attends, as L bytes."""
        B, L = self.block, self.tokens
        row = bytearray(L)
        at = h * self.blocks + p // B
        for j in range(self.full_counts[at]):
            kb = self.full_idx[at * self.full_width + j]
            row[kb * B:(kb + 1) * B] = b"\x01" * B
        for j in range(self.part_counts[at]):
            kb = self.part_idx[at * self.part_width + j]
            offset = ((self.partial_start[at] + j) * B + p % B) * (B // 8)
            bits = int.from_bytes(self.bits[offset:offset + B // 8], "little")
            while bits:
                col = (bits & -bits).bit_length() - 1
                if kb * B + col >= L:
                    raise InputError(f"partial block ({p // B}, {kb}) has a bit past L = {L}")
                row[kb * B + col] = 1
                bits &= bits - 1
        return row

    def partial_ids(self):
        """Flat [LH * QB * QB] array: the partial block's number in partial_bits, else -1."""
        ids = array.array("q", [-1]) * (self.heads * self.blocks * self.blocks)
        for at in range(self.heads * self.blocks):
            for j in range(self.part_counts[at]):
                kb = self.part_idx[at * self.part_width + j]
                ids[at * self.blocks + kb] = self.partial_start[at] + j
        return ids

    def mask_mod(self, partial_ids, bits):
        """FlexAttention's mask_mod for the partial blocks: the exported bit of (q, kv).

        Written with operators and flat indexing only, so the same function runs on torch
        tensors inside the compiled kernel and on Python ints in --dry-run --mask-digests.
        """
        B, QB, per_head = self.block, self.blocks, self.heads > 1

        def mask_mod(b, h, q_idx, kv_idx):
            head = h if per_head else 0
            pid = partial_ids[(head * QB + q_idx // B) * QB + kv_idx // B]
            pid = pid * (pid >= 0)  # blocks that are not partial never reach here; stay in bounds
            byte = bits[((pid * B) + q_idx % B) * (B // 8) + (kv_idx % B) // 8]
            return ((byte >> (kv_idx % 8)) & 1) == 1

        return mask_mod

    def digest(self, rows, h):
        """sha256 of the L x L mask (1 byte a pair) in ORIGINAL token order, from layout rows."""
        L = self.tokens
        inverse = [0] * L
        for p in range(L):
            inverse[self.original(h, p)] = p
        ordered = [None] * L
        for p in range(L):
            ordered[self.original(h, p)] = bytes(rows[p][inverse[o]] for o in range(L))
        return hashlib.sha256(b"".join(ordered)).hexdigest()

    def flex_rows(self, h):
        """The mask as FlexAttention runs it: full blocks whole, partial blocks by mask_mod."""
        B, L = self.block, self.tokens
        rows = [bytearray(L) for _ in range(L)]
        mask_mod = self.mask_mod(self.partial_ids(), self.bits)
        for qb in range(self.blocks):
            at = h * self.blocks + qb
            for q in range(qb * B, min(L, (qb + 1) * B)):
                for j in range(self.full_counts[at]):
                    kb = self.full_idx[at * self.full_width + j]
                    rows[q][kb * B:(kb + 1) * B] = b"\x01" * B
                for j in range(self.part_counts[at]):
                    kb = self.part_idx[at * self.part_width + j]
                    for k in range(kb * B, min(L, (kb + 1) * B)):
                        rows[q][k] = 1 if mask_mod(0, h, q, k) else 0
        return rows


def load_manifest(path):
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a readable JSON file ({error})")
    if manifest.get("schema") != LAYOUTS_SCHEMA:
        raise InputError(f"{path}: schema must be {LAYOUTS_SCHEMA!r} "
                         f"(got {manifest.get('schema')!r})")
    return manifest


def selected_cases(manifest_paths, filters):
    """(root folder, case) of every exported case of the manifests that the filters select."""
    selected = []
    for path in manifest_paths:
        manifest = load_manifest(path)
        root = os.path.dirname(os.path.abspath(path))
        for case in manifest["cases"]:
            if case.get("error"):
                print(f"skip  {case['caseKey']}: {case['error']}", file=sys.stderr)
            elif not filters or any(f in case["caseKey"] for f in filters):
                selected.append((root, case))
    return selected


def runs_of(case, peers, dtypes):
    """(peer, dtype) pairs a case gets: SDPA only for dense, FlexAttention always."""
    return [(p, d) for p in peers for d in dtypes if p == "flex" or case["method"] == "dense"]


def dry_run(args):
    for root, case in selected_cases(args.manifests, args.cases):
        layout = Layout(root, case)
        layout.check(case)
        runs = ", ".join(f"{p} {d}" for p, d in runs_of(case, args.peers, args.dtypes))
        print(f"case  {case['caseKey']}: layout heads {layout.heads}, {layout.blocks} blocks of "
              f"{layout.block}, {case['fullBlocks']} full + {case['partialBlocks']} partial, "
              f"permutation {case['permutation']}, {case['flops']:.3e} FLOPs → {runs}")
        if args.mask_digests and case["tokens"] <= 4096:
            L = case["tokens"]
            for h in range(layout.heads):
                rows = [layout.mask_row(h, p) for p in range(L)]
                print("digest " + json.dumps({"caseKey": case["caseKey"], "head": h,
                                              "maskRow": layout.digest(rows, h),
                                              "maskMod": layout.digest(layout.flex_rows(h), h)}))


def write_json_atomic(path, value):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(value, f, indent=1)
        f.write("\n")
    os.replace(temp, path)


def percentile(samples, q):
    """Linear interpolation between order statistics (numpy's default, Longshot's summary)."""
    s = sorted(samples)
    x = q * (len(s) - 1)
    lo, hi = math.floor(x), math.ceil(x)
    return s[lo] + (s[hi] - s[lo]) * (x - lo)


class GpuCase:
    """Q/K/V, BlockMask and the timed functions of one case on the GPU."""

    def __init__(self, torch, layout, case, seed):
        self.torch = torch
        self.layout = layout
        self.case = case
        dev = "cuda"
        H, L, d = case["heads"], case["tokens"], case["headDim"]
        g = torch.Generator(device=dev).manual_seed(seed)
        self.qkv32 = [torch.randn((1, H, L, d), generator=g, device=dev, dtype=torch.float32)
                      for _ in range(3)]
        self.perm = None
        if layout.perm is not None:
            self.perm = self._tensor(layout.perm, torch.int32).reshape(layout.heads, L).long()
        self.scale = None
        if layout.scale is not None:
            self.scale = self._tensor(layout.scale, torch.float32).reshape(1, layout.heads, L, 1)
        self.block_mask = self._block_mask()

    def _tensor(self, view, dtype):
        return self.torch.frombuffer(bytearray(view), dtype=dtype).to("cuda")

    def _block_mask(self):
        torch = self.torch
        from torch.nn.attention.flex_attention import BlockMask

        lay, L = self.layout, self.layout.tokens
        LH, QB, B = lay.heads, lay.blocks, lay.block

        def lists(counts, idx, width):
            num = self._tensor(counts, torch.int32).reshape(1, LH, QB)
            # FlexAttention's kv_indices hold a slot for every key block (entries past the count
            # are ignored); the export keeps only the widest row.
            full_width = torch.zeros((1, LH, QB, QB), dtype=torch.int32, device="cuda")
            full_width[..., :width] = self._tensor(idx, torch.int32).reshape(1, LH, QB, width)
            return num.contiguous(), full_width.contiguous()

        kv_num, kv_idx = lists(lay.part_counts, lay.part_idx, lay.part_width)
        full_num, full_idx = lists(lay.full_counts, lay.full_idx, lay.full_width)
        mask_mod = None
        if lay.partials > 0:
            partial_ids = torch.frombuffer(lay.partial_ids(), dtype=torch.int64).to("cuda")
            mask_mod = lay.mask_mod(partial_ids, self._tensor(lay.bits, torch.uint8))

        return BlockMask.from_kv_blocks(kv_num, kv_idx, full_num, full_idx, BLOCK_SIZE=B,
                                        mask_mod=mask_mod, seq_lengths=(L, L))

    def inputs(self, dtype):
        torch = self.torch
        return [x if dtype == "f32" else x.to(torch.bfloat16) for x in self.qkv32]

    def _to_layout(self, x):
        if self.perm is None:
            return x
        if self.perm.shape[0] == 1:
            return x.index_select(2, self.perm[0])
        return x.gather(2, self.perm[None, :, :, None].expand_as(x))

    def _from_layout(self, y):
        if self.perm is None:
            out = y
        elif self.perm.shape[0] == 1:
            out = self.torch.empty_like(y).index_copy_(2, self.perm[0], y)
        else:
            out = self.torch.empty_like(y).scatter_(2, self.perm[None, :, :, None].expand_as(y), y)
        return out if self.scale is None else out * self.scale.to(out.dtype)

    def flex_fn(self, flex, dtype):
        q, k, v = self.inputs(dtype)
        mask = self.block_mask
        return lambda: self._from_layout(
            flex(self._to_layout(q), self._to_layout(k), self._to_layout(v), block_mask=mask))

    def sdpa_fn(self, dtype):
        torch = self.torch
        from torch.nn.attention import SDPBackend, sdpa_kernel

        q, k, v = self.inputs(dtype)
        backend = SDPBackend.EFFICIENT_ATTENTION if dtype == "f32" else SDPBackend.FLASH_ATTENTION

        def run():
            with sdpa_kernel(backend):
                return torch.nn.functional.scaled_dot_product_attention(q, k, v)

        return run

    def check(self, out, dtype, rows, seed):
        """relL2 and max |error| of `out` against float64 on sampled (head, row) pairs."""
        torch = self.torch
        lay, case = self.layout, self.case
        H, L, d = case["heads"], case["tokens"], case["headDim"]
        q, k, v = self.inputs(dtype)
        rng = random.Random(seed)
        err2 = ref2 = max_abs = 0.0
        checked = 0
        for h in sorted({0, H - 1}):
            lh = h if lay.heads > 1 else 0
            positions = [0, L - 1] + [rng.randrange(L) for _ in range(rows)]
            keys = self.perm[lh] if self.perm is not None else torch.arange(L, device="cuda")
            K = k[0, h].index_select(0, keys).double()
            V = v[0, h].index_select(0, keys).double()
            for p in positions:
                o = lay.original(lh, p)
                attended = torch.frombuffer(lay.mask_row(lh, p), dtype=torch.uint8).to("cuda") == 1
                if case["method"] == "dense" and lay.heads == 1 and not attended.all():
                    raise AssertionError(f"dense layout row {p} is not full")
                scores = (K @ q[0, h, o].double()) / math.sqrt(d)
                scores = scores.masked_fill(~attended, float("-inf"))
                ref = torch.softmax(scores, 0) @ V if attended.any() else torch.zeros_like(V[0])
                if self.scale is not None:
                    ref = ref * float(self.scale[0, lh, o, 0])
                diff = out[0, h, o].double() - ref
                err2 += float(diff.square().sum())
                ref2 += float(ref.square().sum())
                max_abs = max(max_abs, float(diff.abs().max()))
                checked += 1
        rel = math.sqrt(err2 / ref2) if ref2 > 0 else math.sqrt(err2)
        return {"rows": checked, "relL2": rel, "maxAbsErr": max_abs,
                "tolerance": TOLERANCE[dtype], "passed": rel <= TOLERANCE[dtype]}


def tf32_state(torch):
    """Whether fp32 matmuls may use TF32 (off by default; FlexAttention's fp32 follows it)."""
    try:
        return bool(torch.backends.cuda.matmul.allow_tf32)
    except (AttributeError, RuntimeError):
        return None


def time_cuda(torch, fn, warmup, repeats, max_case_s):
    """(first-call ms, samples ms, last output): CUDA events around each timed call."""
    started = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    first_ms = (time.perf_counter() - started) * 1e3
    for _ in range(max(0, warmup - 1)):
        out = fn()
    torch.cuda.synchronize()
    probe = [torch.cuda.Event(enable_timing=True) for _ in range(2)]
    probe[0].record()
    out = fn()
    probe[1].record()
    probe[1].synchronize()
    per_call = probe[0].elapsed_time(probe[1])
    n = min(repeats, max(3, int(max_case_s * 1e3 / max(per_call, 1e-3))))
    samples = []
    for _ in range(n):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        out = fn()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end))
    return first_ms, samples, out


def gpu_run(args):
    cases = selected_cases(args.manifests, args.cases)
    for root, case in cases:  # every export checked before any GPU work (read again per case)
        Layout(root, case).check(case)
    try:
        import torch
    except ImportError:
        raise InputError("PyTorch is not installed here (--dry-run checks an export without it)")
    if not torch.cuda.is_available():
        raise InputError("no CUDA device: torch.cuda.is_available() is False (use --dry-run)")
    from torch.nn.attention.flex_attention import flex_attention

    # Each case compiles its own kernel (its mask_mod and shapes); keep dynamo from falling back
    # to eager after the default 8 recompiles.
    for name, limit in (("recompile_limit", 256), ("cache_size_limit", 256),
                        ("accumulated_recompile_limit", 4096),
                        ("accumulated_cache_size_limit", 4096)):
        if hasattr(torch._dynamo.config, name):
            setattr(torch._dynamo.config, name, limit)
    flex = torch.compile(flex_attention, dynamic=False)
    try:
        import triton
        triton_version = triton.__version__
    except ImportError:
        triton_version = "not installed"

    results = {
        "schema": PEERS_SCHEMA,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "command": " ".join(["python3"] + sys.argv),
        "device": torch.cuda.get_device_name(),
        "versions": {"torch": torch.__version__, "cuda": str(torch.version.cuda),
                     "triton": triton_version, "python": sys.version.split()[0]},
        "manifests": [os.path.abspath(p) for p in args.manifests],
        "seed": args.seed,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "tf32": tf32_state(torch),
        "records": [],
    }
    planned = {(case["caseKey"], f"torch-{p}", d) for _, case in cases
               for p, d in runs_of(case, args.peers, args.dtypes)}
    earlier_path = next((p for p in args.out if os.path.isfile(p)), None)
    if args.append and earlier_path:
        with open(earlier_path) as f:
            earlier = json.load(f)
        if earlier.get("schema") != PEERS_SCHEMA:
            raise InputError(f"{earlier_path}: schema must be {PEERS_SCHEMA!r} to --append to it")
        results["records"] = [r for r in earlier["records"]
                              if (r["caseKey"], r["peer"], r["dtype"]) not in planned]
    for root, case in cases:
        gpu = None
        try:
            gpu = GpuCase(torch, Layout(root, case), case, args.seed)
        except Exception as error:  # a case that cannot be set up is recorded, the rest run
            setup_error = f"{type(error).__name__}: " + (str(error).splitlines() or [""])[0]
        for peer, dtype in runs_of(case, args.peers, args.dtypes):
            record = {key: case[key] for key in
                      ("caseKey", "scenario", "method", "params", "tokens", "heads", "headDim")}
            record.update({"peer": f"torch-{peer}", "dtype": dtype, "flops": case["flops"],
                           "backend": "flex-compiled" if peer == "flex" else
                           ("efficient" if dtype == "f32" else "flash"),
                           "latency": None, "tflops": None, "check": None})
            try:
                if gpu is None:
                    raise RuntimeError(setup_error)
                fn = gpu.flex_fn(flex, dtype) if peer == "flex" else gpu.sdpa_fn(dtype)
                first_ms, samples, out = time_cuda(torch, fn, args.warmup, args.repeats,
                                                   args.max_case_s)
                median = percentile(samples, 0.5)
                record["latency"] = {"median": median, "p10": percentile(samples, 0.1),
                                     "p90": percentile(samples, 0.9), "n": len(samples),
                                     "firstCallMs": first_ms, "samples": samples}
                record["tflops"] = case["flops"] / (median * 1e-3) / 1e12
                record["check"] = gpu.check(out, dtype, args.check_rows, args.seed)
                del out
            except Exception as error:  # OOM or a compile failure: record it, go on
                record["error"] = f"{type(error).__name__}: " + (str(error).splitlines() or [""])[0]
            torch.cuda.empty_cache()
            results["records"].append(record)
            for path in args.out:
                write_json_atomic(path, results)
            lat = record["latency"]
            status = record.get("error") or (
                f"{lat['median']:.2f} ms (p10 {lat['p10']:.2f}, p90 {lat['p90']:.2f}, "
                f"n {lat['n']}), "
                f"{record['tflops']:.1f} TFLOP/s, relL2 {record['check']['relL2']:.1e}"
                f"{'' if record['check']['passed'] else ' CHECK FAILED'}")
            print(f"{case['caseKey']} · torch-{peer} {dtype}: {status}", flush=True)
        del gpu
        torch.cuda.empty_cache()
    for path in args.out:
        write_json_atomic(path, results)
    failed = [r for r in results["records"] if r.get("error") or not r["check"]["passed"]]
    return 1 if failed else 0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="peers.py", description=__doc__.split("\n")[0])
    parser.add_argument("manifests", nargs="+", metavar="MANIFEST",
                        help="manifest.json files of plan --export-layouts")
    parser.add_argument("--out", action="append",
                        help="results file, rewritten after every record (default peers.json; "
                             "repeat to keep copies, e.g. one that outlives a killed run)")
    parser.add_argument("--peers", default="sdpa,flex", help="comma list of: sdpa, flex")
    parser.add_argument("--dtypes", default="f32,bf16", help="comma list of: f32, bf16")
    parser.add_argument("--cases", default="", help="comma list of case-key substrings to run")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls (default 3)")
    parser.add_argument("--repeats", type=int, default=10, help="timed calls (default 10)")
    parser.add_argument("--max-case-s", type=float, default=20.0,
                        help="fewer repeats (at least 3) when they would take longer (default 20)")
    parser.add_argument("--check-rows", type=int, default=16,
                        help="sampled rows per checked head (default 16, plus rows 0 and L-1)")
    parser.add_argument("--seed", type=int, default=1, help="Q/K/V and row-sample seed")
    parser.add_argument("--append", action="store_true",
                        help="keep the records of the first existing --out that this run does "
                             "not redo")
    parser.add_argument("--dry-run", action="store_true",
                        help="check the export and list the planned runs; needs no torch")
    parser.add_argument("--mask-digests", action="store_true",
                        help="with --dry-run: sha256 of each small case's mask (tests)")
    args = parser.parse_args(argv)
    for name, allowed in (("peers", PEERS), ("dtypes", DTYPES)):
        items = [x for x in getattr(args, name).split(",") if x]
        bad = [x for x in items if x not in allowed]
        if bad or not items:
            parser.error(f"--{name} must be a comma list of {', '.join(allowed)} (got "
                         f"{getattr(args, name)!r})")
        setattr(args, name, items)
    args.cases = [x for x in args.cases.split(",") if x]
    args.out = args.out or ["peers.json"]
    for name in ("warmup", "repeats", "check_rows"):
        if getattr(args, name) < (0 if name == "check_rows" else 1):
            parser.error(f"--{name.replace('_', '-')} must be >= 1 (got {getattr(args, name)})")
    return args


def main(argv):
    args = parse_args(argv)
    try:
        if args.dry_run:
            dry_run(args)
            return 0
        return gpu_run(args)
    except InputError as error:
        print(f"peers: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
