"""Exact CPU selective scan for Mamba-1 (forward, backward and one-token state update).

transformers' reference CPU scan indexes one time step at a time and its autograd graph allocates a full
(B, D, L, N) tensor per step, so a training step costs O(L^2). This module offers two exact replacements:

* ``fused-numba``: numba kernels that run one sequential pass over time per (batch, channel) with the N-vector
  state in local memory, parallel over batch x channels. The backward is the exact adjoint: the forward keeps
  the state every ``CHUNK`` steps and the backward recomputes each chunk before walking it in reverse, so no
  (B, D, L, N) tensor is ever allocated.
* ``torch``: a pure PyTorch fallback with the same chunked scheme and a hand-written backward; one in-place
  op per time step, everything else in bulk ops on cache-sized (chunk, B, D, N) tensors.

The fused kernels compute the recurrence (``h_t = exp(dt_t A) h_{t-1} + dt_t B_t u_t``, ``y_t = <h_t, C_t>``)
plus the D skip and the silu(z) gate (saving ~10 full-size temporaries per layer and step); dt =
softplus(delta + bias) stays in PyTorch, whose vectorised log1p numba cannot match. The torch path does all
element-wise parts with ordinary autograd ops.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

log = logging.getLogger("rwr")

_BACKEND: str | None = None  # resolved lazily by cpu_scan_backend()
_FORCED: str | None = None  # set by use_scan_backend()

# ----------------------------------------------------------------------------------------------------------
# Numba kernels (optional). Everything is float32; see _expf for why exp is hand-written.
# ----------------------------------------------------------------------------------------------------------
CHUNK = 64  # backward recomputes the state inside chunks of this many steps (memory: L/CHUNK states)

try:
    import numba
    from llvmlite import ir
    from numba import njit, prange, types
    from numba.extending import intrinsic

    _NUMBA_ERROR: Exception | None = None
except ImportError as _exc:  # numba is optional: the torch path is exact too, only slower
    numba = None
    _NUMBA_ERROR = _exc

if numba is not None:
    _F = np.float32
    # Helpers without exp (_dot, _row_dots, _chunk_grads) may reorder sums and fuse multiply-adds, which lets
    # LLVM vectorise their reductions over the state; _expf and the recurrences get no fast-math at all.
    _SUM_FLAGS = {"reassoc", "contract"}

    @intrinsic
    def _bits_as_f32(typingctx, bits):
        """Reinterpret the low 32 bits of an integer as a float32 (builds 2**k for _expf)."""

        def codegen(context, builder, signature, args):
            v = args[0]
            if v.type.width > 32:
                v = builder.trunc(v, ir.IntType(32))
            return builder.bitcast(v, ir.FloatType())

        return types.float32(bits), codegen

    @njit(inline="always", cache=True)
    def _expf(x):
        """float32 exp, max error ~1.3 ulp over the whole range (inf, 0, nan handled).

        libm's expf is an opaque scalar call that LLVM cannot vectorise and it took ~75% of the scan time.
        This is Cephes' expf (Cody-Waite reduction + degree-6 polynomial), written so that it vectorises.
        It must never be compiled with reassociation (it would fold the rounding trick and the split ln2).
        """
        xc = x if x > _F(-104.0) else _F(-104.0)  # below: exp underflows to 0 anyway
        xc = xc if xc < _F(89.0) else _F(89.0)  # above: overflows to inf via the 2**k1 * 2**k2 product
        kf = (xc * _F(1.44269504088896341) + _F(12582912.0)) - _F(12582912.0)  # round to nearest
        r = xc - kf * _F(0.693359375) + kf * _F(2.12194440e-4)
        p = _F(1.9875691500e-4)
        p = p * r + _F(1.3981999507e-3)
        p = p * r + _F(8.3334519073e-3)
        p = p * r + _F(4.1665795894e-2)
        p = p * r + _F(1.6666665459e-1)
        p = p * r + _F(5.0000001201e-1)
        y = p * r * r + r + _F(1.0)
        k = np.int32(kf)
        k1 = k >> np.int32(1)  # 2**k split in two factors so that denormal results and k = 128 work
        s1 = _bits_as_f32((k1 + np.int32(127)) << np.int32(23))
        s2 = _bits_as_f32((k - k1 + np.int32(127)) << np.int32(23))
        res = y * s1 * s2
        return res if x == x else x

    @njit(fastmath=_SUM_FLAGS, cache=True)
    def _dot(a, b, n):
        """sum_i a[i] * b[i] (with _SUM_FLAGS so LLVM vectorises the reduction)."""
        acc = _F(0.0)
        for i in range(n):
            acc += a[i] * b[i]
        return acc

    @njit(fastmath=_SUM_FLAGS, cache=True)
    def _row_dots(X, Y, out):
        """out[j] = sum_k X[j, k] * Y[j, k] (once per chunk: y_j = <h_j, C_j>)."""
        for j in range(out.shape[0]):
            acc = _F(0.0)
            for k in range(X.shape[1]):
                acc += X[j, k] * Y[j, k]
            out[j] = acc

    @njit(cache=True)
    def _gate(y, u, z, dd, has_d, has_z):
        """In place, one chunk: y <- (y + u D) * silu(z), the reference's D skip and gate, in its order."""
        for j in range(y.shape[0]):
            v = y[j]
            if has_d:
                v = v + u[j] * dd
            if has_z:
                v = v * (z[j] / (_F(1.0) + _expf(-z[j])))
            y[j] = v

    @njit(cache=True)
    def _gate_bwd(dout, y, u, z, dd, has_d, dy, dz):
        """One chunk: from dLoss/dout and y = <h, C>, write dLoss/dy (into the scan) and dLoss/dz."""
        for j in range(dy.shape[0]):
            zj = z[j]
            e = _expf(-zj)
            sg = _F(1.0) / (_F(1.0) + e)
            v = y[j] + u[j] * dd if has_d else y[j]
            dz[j] = dout[j] * v * (sg * (_F(1.0) + zj * (_F(1.0) - sg)))  # torch's silu_backward
            dy[j] = dout[j] * (zj / (_F(1.0) + e))

    @njit(fastmath=_SUM_FLAGS, cache=True)
    def _chunk_grads(G, H, E, a, Bt, dy, dt, u, dd, dB, dC, dAc, du, ddt):
        """Gradients of one chunk of one (batch, channel) once its adjoints G are known; returns sum dy * u.

        G[j] = dLoss/dh_j, H[j] = h_{j-1}, H[j+1] = h_j, E[j] = exp(dt_j a), dy[j] = dLoss/d(y_j + u_j D).
        Writes du, ddt (per step), adds into dB, dC (per step) and dAc. Called once per chunk, so its call
        cost is negligible.
        """
        n = a.shape[0]
        sd = _F(0.0)
        for j in range(dy.shape[0]):
            dyv = dy[j]
            dtv = dt[j]
            x = u[j]
            gx = dtv * x
            sb = _F(0.0)
            sa = _F(0.0)
            for k in range(n):
                gk = G[j, k]
                dC[j, k] += dyv * H[j + 1, k]
                dB[j, k] += gk * gx
                ge = gk * H[j, k] * E[j, k]  # dLoss/d(dt_j a_k)
                dAc[k] += ge * dtv
                sb += gk * Bt[j, k]
                sa += ge * a[k]
            du[j] = sb * dtv + dyv * dd
            ddt[j] = sb * x + sa
            sd += dyv * x
        return sd

    @njit(cache=True)
    def _batch_span(t, nthreads, nb, nd):
        """Thread t's even share of the b * d (batch, channel) items, as (b0, b1, lo, hi): the channels
        [max(lo - b nd, 0), min(hi - b nd, nd)) of every batch row b in [b0, b1)."""
        lo = t * (nb * nd) // nthreads
        hi = (t + 1) * (nb * nd) // nthreads
        return lo // nd, (hi + nd - 1) // nd, lo, hi

    @njit(parallel=True, cache=True)
    def _scan_fwd(u, dt, A, Bt, Ct, D, z, has_d, has_z, nt, out, ckpt, last):
        """out = (y + u D) * silu(z) with y[b,d,s] = <h_s, C[b,s]>, h_s = exp(dt a_d) h_{s-1} + (dt B[b,s]) u.

        One sequential pass over time per (batch, channel); a thread runs its channels of one batch row
        chunk by chunk (all channels through chunk c, then c + 1), so the chunk's rows of B and C stay in L1
        instead of streaming the whole sequence once per channel. Saves the state before every CHUNK-th step
        into ckpt when ckpt.shape[2] > 0 (training).
        """
        nb, nd, nl = u.shape
        nn = A.shape[1]
        save = ckpt.shape[2] > 0
        for t in prange(nt):
            H = np.empty((CHUNK, nn), np.float32)
            hs = np.empty((nd, nn), np.float32)  # the running state of each channel
            b0, b1, lo, hi = _batch_span(t, nt, nb, nd)
            for b in range(b0, b1):
                d0, d1 = max(lo - b * nd, 0), min(hi - b * nd, nd)
                hs[d0:d1] = 0
                for s0 in range(0, nl, CHUNK):
                    m = min(CHUNK, nl - s0)
                    s1 = s0 + m
                    for d in range(d0, d1):
                        h = hs[d]
                        a = A[d]
                        if save:
                            ckpt[b, d, s0 // CHUNK, :] = h
                        for j in range(m):
                            dtv = dt[b, d, s0 + j]
                            x = u[b, d, s0 + j]
                            for i in range(nn):  # same operation order as the reference: e*h + (dt*B)*u
                                h[i] = _expf(dtv * a[i]) * h[i] + (dtv * Bt[b, s0 + j, i]) * x
                            for i in range(nn):
                                H[j, i] = h[i]
                        _row_dots(H[:m], Ct[b, s0:s1], out[b, d, s0:s1])
                        if has_d or has_z:
                            dd = D[d] if has_d else _F(0.0)
                            _gate(out[b, d, s0:s1], u[b, d, s0:s1], z[b, d, s0:s1], dd, has_d, has_z)
                last[b, d0:d1] = hs[d0:d1]

    @njit(parallel=True, cache=True)
    def _scan_bwd(u, dt, A, Bt, Ct, D, z, has_d, has_z, ckpt, dout, dlast, nt, du, ddt, dA, dB, dC, dD, dz):
        """Exact adjoint of _scan_fwd. Per-thread partial sums: dA, dD (threads, d, .) float64 and dB, dC
        (threads, b, l, n); du, ddt, dz are written whole. Same chunk-major order as the forward.

        Per chunk (last to first) and channel: recompute the chunk's states from the checkpoint, undo the
        gate, run the adjoint recursion g_j = dy_j C_j + exp(dt_{j+1} a) g_{j+1} backwards, then form all
        gradients in one pass. The passes are kept apart because each one alone vectorises and the merged
        loop did not.
        """
        nb, nd, nl = u.shape
        nn = A.shape[1]
        for t in prange(nt):
            H = np.empty((CHUNK + 1, nn), np.float32)  # H[0] = state before the chunk, H[j+1] = h_j
            E = np.empty((CHUNK, nn), np.float32)  # exp(dt_j a)
            G = np.empty((CHUNK, nn), np.float32)  # dLoss/dh_j
            Y = np.empty(CHUNK, np.float32)  # y_j = <h_j, C_j> (needed for dz)
            DY = np.empty(CHUNK, np.float32)  # dLoss/dy_j
            h = np.empty(nn, np.float32)
            gs = np.empty((nd, nn), np.float32)  # each channel's adjoint carried into the previous chunk
            dAc = np.empty(nn, np.float32)  # per chunk in float32, then summed into dA in float64
            b0, b1, lo, hi = _batch_span(t, nt, nb, nd)
            for b in range(b0, b1):
                d0, d1 = max(lo - b * nd, 0), min(hi - b * nd, nd)
                gs[d0:d1] = dlast[b, d0:d1]
                for c in range(ckpt.shape[2] - 1, -1, -1):
                    s0 = c * CHUNK
                    m = min(CHUNK, nl - s0)
                    s1 = s0 + m
                    for d in range(d0, d1):
                        g = gs[d]
                        a = A[d]
                        dd = D[d] if has_d else _F(0.0)
                        for i in range(nn):
                            h[i] = ckpt[b, d, c, i]
                            H[0, i] = h[i]
                        # recompute (the state lives in h: a store/reload chain through H is slow)
                        for j in range(m):
                            dtv = dt[b, d, s0 + j]
                            x = u[b, d, s0 + j]
                            for i in range(nn):
                                e = _expf(dtv * a[i])
                                E[j, i] = e
                                h[i] = e * h[i] + (dtv * Bt[b, s0 + j, i]) * x
                            for i in range(nn):
                                H[j + 1, i] = h[i]
                        if has_z:
                            _row_dots(H[1 : m + 1], Ct[b, s0:s1], Y[:m])
                            _gate_bwd(
                                dout[b, d, s0:s1],
                                Y[:m],
                                u[b, d, s0:s1],
                                z[b, d, s0:s1],
                                dd,
                                has_d,
                                DY[:m],
                                dz[b, d, s0:s1],
                            )
                        else:
                            DY[:m] = dout[b, d, s0:s1]
                        for j in range(m - 1, -1, -1):  # adjoint recursion, the only sequential part
                            dyv = DY[j]
                            for i in range(nn):
                                gi = g[i] + dyv * Ct[b, s0 + j, i]
                                G[j, i] = gi
                                g[i] = gi * E[j, i]
                        dAc[:] = 0
                        dD[t, d] += _chunk_grads(
                            G,
                            H,
                            E,
                            a,
                            Bt[b, s0:s1],
                            DY[:m],
                            dt[b, d, s0:s1],
                            u[b, d, s0:s1],
                            dd,
                            dB[t, b, s0:s1],
                            dC[t, b, s0:s1],
                            dAc,
                            du[b, d, s0:s1],
                            ddt[b, d, s0:s1],
                        )
                        for i in range(nn):
                            dA[t, d, i] += dAc[i]

    @njit(cache=True)
    def _state_update(state, x, dt, A, B, C, out):
        """One decoding step in place: state = exp(dt A) state + (dt B) x; out = <state, C>."""
        nb, nd, nn = state.shape
        for b in range(nb):
            for d in range(nd):
                h = state[b, d]
                dtv = dt[b, d]
                xv = x[b, d]
                for i in range(nn):
                    h[i] = _expf(dtv * A[d, i]) * h[i] + (dtv * B[b, i]) * xv
                out[b, d] = _dot(h, C[b], nn)


# ----------------------------------------------------------------------------------------------------------
# Backend selection
# ----------------------------------------------------------------------------------------------------------
def _selftest_fused() -> None:
    """Compile the kernels on a tiny problem and check them against the torch path (raises on mismatch)."""
    g = torch.Generator().manual_seed(0)
    b, d, n, nl = 2, 3, 4, 2 * CHUNK + 3  # several chunks, ragged tail
    zx = torch.randn(b, nl, 2 * d, generator=g)  # the gate, strided as in transformers' MambaMixer
    args = [
        torch.randn(b, d, nl, generator=g),
        torch.randn(b, d, nl, generator=g) - 1,
        -torch.rand(d, n, generator=g) - 0.1,
        torch.randn(b, n, nl, generator=g),
        torch.randn(b, n, nl, generator=g),
        torch.randn(d, generator=g),
        zx.transpose(1, 2)[:, d:],
        torch.randn(d, generator=g),
    ]
    outs = []
    for fn in (selective_scan_fused, selective_scan_torch):
        xs = [a.clone().requires_grad_() for a in args]
        for gated in (True, False):
            y, last = fn(*xs[:5], *(xs[5:] if gated else (None, None, xs[7])), True, True)
            (y.sum() + last.square().sum()).backward()
        outs.append([y, last] + [x.grad for x in xs])
    for a, c in zip(*outs, strict=True):
        if not torch.allclose(a, c, rtol=1e-4, atol=1e-4):
            raise RuntimeError(f"fused kernel self-test mismatch (max abs diff {(a - c).abs().max():.3g})")
    state = torch.randn(b, d, n, generator=g)
    step = [
        torch.randn(b, d, generator=g),
        torch.rand(b, d, generator=g),
        args[2],
        torch.randn(b, n, generator=g),
        torch.randn(b, n, generator=g),
    ]
    s1, s2 = state.clone(), state.clone()
    o1 = _state_update_torch(s1, *step, None, None, None, False)
    o2 = _state_update_fused(s2, *step, None, None, None, False)
    if not (torch.allclose(o1, o2, atol=1e-5) and torch.allclose(s1, s2, atol=1e-5)):
        raise RuntimeError("fused state-update self-test mismatch")


def cpu_scan_backend() -> str:
    """Name of the CPU scan implementation in use: ``"fused-numba"`` or ``"torch"``.

    The first call compiles (or loads from numba's on-disk cache) the kernels and checks them on a tiny input;
    if numba is missing or anything fails, one log line says so and the exact torch path is used instead.
    ``RWR_CPU_SCAN=torch`` forces the torch path.
    """
    global _BACKEND
    if _FORCED is not None:
        return _FORCED
    if _BACKEND is None:
        if os.environ.get("RWR_CPU_SCAN", "").lower() == "torch":
            _BACKEND = "torch"
            log.info("CPU Mamba scan: exact torch path (forced by RWR_CPU_SCAN=torch)")
        elif _NUMBA_ERROR is not None:
            _BACKEND = "torch"
            log.warning("CPU Mamba scan: exact torch path (numba unavailable: %s)", _NUMBA_ERROR)
        else:
            try:
                _selftest_fused()
                _BACKEND = "fused-numba"
                log.info("CPU Mamba scan: fused numba kernels (numba %s)", numba.__version__)
            except Exception as exc:  # compilation errors come in many types; any of them means "don't use"
                _BACKEND = "torch"
                why = f"{type(exc).__name__}: {exc}"
                log.warning("CPU Mamba scan: exact torch path (numba kernels failed: %s)", why)
    return _BACKEND


@contextlib.contextmanager
def use_scan_backend(name: str) -> Iterator[None]:
    """Temporarily force ``"fused-numba"`` or ``"torch"`` (benchmarks, tests)."""
    global _FORCED
    if name not in ("fused-numba", "torch"):
        raise ValueError(f"unknown CPU scan backend {name!r}")
    if name == "fused-numba" and _NUMBA_ERROR is not None:
        raise RuntimeError(f"fused CPU scan needs numba: {_NUMBA_ERROR}")
    prev, _FORCED = _FORCED, name
    try:
        yield
    finally:
        _FORCED = prev


def _threads(work: int) -> int:
    """Threads for a kernel call: as many as torch uses (numba's pool size is fixed at its first launch),
    but one for small problems (``work`` = b * d * l * n), where waking the pool costs more than it saves."""
    n = max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS)) if work >= 1 << 18 else 1
    numba.set_num_threads(n)
    return n


def _np(t: torch.Tensor) -> np.ndarray:
    """Contiguous float32 numpy view of a CPU tensor, copied only when needed."""
    return t.detach().to(torch.float32).contiguous().numpy()


_NO_D = np.zeros(1, np.float32)  # placeholder for an absent D (never read)


# ----------------------------------------------------------------------------------------------------------
# Core recurrence: (u, dt, A, Bt, Ct) -> (y, last_state), with u, dt: (b, d, l), A: (d, n), Bt, Ct: (b, l, n)
# ----------------------------------------------------------------------------------------------------------
class _FusedScan(torch.autograd.Function):
    """Numba forward/backward of ``(y + u D) * silu(z)``; saves the inputs and a state every CHUNK steps.

    u, dt: (b, d, l) float32, dt already biased and softplus-ed; A: (d, n); Bt, Ct: (b, l, n); D: (d,) or
    None; z: (b, d, l) or None. Inputs are made contiguous float32 once and those tensors are saved.
    """

    @staticmethod
    def forward(ctx, u, dt, A, Bt, Ct, D, z):  # type: ignore[override]
        b, d, nl = u.shape
        n = A.shape[1]
        save = any(ctx.needs_input_grad)  # False under no_grad: inference keeps no checkpoints
        nck = (nl + CHUNK - 1) // CHUNK if save else 0
        out, last, ckpt = torch.empty(b, d, nl), torch.empty(b, d, n), torch.empty(b, d, nck, n)
        xs = [_f32c(x) for x in (u, dt, A, Bt, Ct, D, z)]
        _scan_fwd(*_kernel_args(xs), _threads(b * d * nl * n), out.numpy(), ckpt.numpy(), last.numpy())
        ctx.set_materialize_grads(False)
        if save:  # inputs (or fresh copies of them), so version counters catch later in-place edits
            ctx.save_for_backward(*xs, ckpt)
        return out, last

    @staticmethod
    @once_differentiable
    def backward(ctx, dout, dlast):  # type: ignore[override]
        *xs, ckpt = ctx.saved_tensors
        u, has_d, has_z = xs[0], xs[5] is not None, xs[6] is not None
        b, d, nl = u.shape
        n = xs[2].shape[1]
        t = _threads(b * d * nl * n)
        dout = torch.zeros(b, d, nl) if dout is None else _f32c(dout)
        dlast = torch.zeros(b, d, n) if dlast is None else _f32c(dlast)
        du, ddt = torch.empty(b, d, nl), torch.empty(b, d, nl)
        dz = torch.empty(b, d, nl) if has_z else du  # du: placeholder, never written when there is no z
        dA, dD = torch.zeros(t, d, n, dtype=torch.float64), torch.zeros(t, d, dtype=torch.float64)
        dB, dC = torch.zeros(t, b, nl, n), torch.zeros(t, b, nl, n)
        grads = [du, ddt, dA, dB, dC, dD, dz]
        outs = [g.numpy() for g in grads]
        _scan_bwd(*_kernel_args(xs), ckpt.numpy(), dout.numpy(), dlast.numpy(), t, *outs)
        return (
            du,
            ddt,
            dA.sum(0).float(),
            dB.sum(0),
            dC.sum(0),
            dD.sum(0).float() if has_d else None,
            dz if has_z else None,
        )


def _f32c(t: torch.Tensor | None) -> torch.Tensor | None:
    """The tensor itself when already contiguous float32, else such a copy (detached either way)."""
    return None if t is None else t.detach().to(torch.float32).contiguous()


def _kernel_args(xs: list) -> list:
    """(u, dt, A, Bt, Ct, D, z) -> the kernels' array arguments, with placeholders for an absent D or z.

    All arrays contiguous float32 so each kernel compiles once (numba specialises on memory layout).
    """
    u, dt, A, Bt, Ct, D, z = xs
    arrays = [x.numpy() for x in (u, dt, A, Bt, Ct)]
    return [
        *arrays,
        _NO_D if D is None else D.numpy(),
        arrays[0] if z is None else z.numpy(),
        D is not None,
        z is not None,
    ]


def _torch_chunk_len(b: int, d: int, n: int) -> int:
    """Steps per chunk so that one (k, b, d, n) chunk tensor is ~2 MiB: big enough to amortise op dispatch,
    small enough to stay in cache (whole-sequence (l, b, d, n) tensors made every op memory-bound)."""
    return max(8, min(256, (1 << 19) // max(1, b * d * n)))


def _torch_chunk_states(h0, dtl, Btl, ul, A):
    """States h_s for one chunk, time-major: (k, b, d, n), plus exp(dt A) for the chunk."""
    dt4 = dtl.unsqueeze(-1)
    dA = torch.exp(dt4 * A)
    hs = (dt4 * Btl.unsqueeze(2)) * ul.unsqueeze(-1)  # (dt * B) * u, the reference's order
    hs[0].addcmul_(dA[0], h0)
    for i in range(1, hs.shape[0]):  # h_i = dA_i * h_{i-1} + dBu_i, written over dBu_i in place
        hs[i].addcmul_(dA[i], hs[i - 1])
    return hs, dA


class _TorchScan(torch.autograd.Function):
    """Pure PyTorch recurrence with a hand-written adjoint, processed in time chunks (same scheme as the fused
    kernels: forward keeps one state per chunk, backward recomputes the chunk and walks it in reverse)."""

    @staticmethod
    def forward(ctx, u, dt, A, Bt, Ct):  # type: ignore[override]
        b, d, nl = u.shape
        n = A.shape[1]
        k = _torch_chunk_len(b, d, n)
        ul, dtl = u.permute(2, 0, 1).contiguous(), dt.permute(2, 0, 1).contiguous()  # (l, b, d)
        Btl, Ctl = Bt.transpose(0, 1).contiguous(), Ct.transpose(0, 1).contiguous()  # (l, b, n)
        y = torch.empty(nl, b, d)
        h = u.new_zeros(b, d, n)
        ckpts = []
        for s0 in range(0, nl, k):
            ckpts.append(h)
            hs, _ = _torch_chunk_states(h, dtl[s0 : s0 + k], Btl[s0 : s0 + k], ul[s0 : s0 + k], A)
            torch.matmul(hs, Ctl[s0 : s0 + k].unsqueeze(-1), out=y[s0 : s0 + k].unsqueeze(-1))
            h = hs[-1].clone()
        ctx.set_materialize_grads(False)
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(ul, dtl, A, Btl, Ctl, torch.stack(ckpts))
        return y.permute(1, 2, 0), h

    @staticmethod
    @once_differentiable
    def backward(ctx, dy, dlast):  # type: ignore[override]
        ul, dtl, A, Btl, Ctl, ckpts = ctx.saved_tensors
        nl, b, d = ul.shape
        n = A.shape[1]
        k = _torch_chunk_len(b, d, n)
        dyl = dy.permute(2, 0, 1).contiguous() if dy is not None else ul.new_zeros(nl, b, d)
        du, ddt = torch.empty(nl, b, d), torch.empty(nl, b, d)
        dB, dC = torch.empty(nl, b, n), torch.empty(nl, b, n)
        dA_param = torch.zeros(d, n, dtype=torch.float64)  # summed over all steps: keep the total in fp64
        carry = dlast.clone() if dlast is not None else ul.new_zeros(b, d, n)  # dLoss/dh_{s1-1} from later
        for c in range(ckpts.shape[0] - 1, -1, -1):
            sl = slice(c * k, min(nl, (c + 1) * k))
            hs, dA = _torch_chunk_states(ckpts[c], dtl[sl], Btl[sl], ul[sl], A)
            g = dyl[sl].unsqueeze(-1) * Ctl[sl].unsqueeze(2)  # direct dLoss/dh_i through y_i
            g[-1] += carry
            for i in range(g.shape[0] - 2, -1, -1):
                g[i].addcmul_(dA[i + 1], g[i + 1])
            carry = dA[0] * g[0]
            prev = torch.cat([ckpts[c].unsqueeze(0), hs[:-1]])
            gde = g * prev * dA  # dLoss/d(dt_i * A) per element
            sb = torch.matmul(g, Btl[sl].unsqueeze(-1)).squeeze(-1)  # sum_n g * B
            du[sl] = sb * dtl[sl]
            ddt[sl] = sb * ul[sl] + (gde * A).sum(-1)
            dA_param += (gde * dtl[sl].unsqueeze(-1)).sum((0, 1))
            dB[sl] = torch.matmul((dtl[sl] * ul[sl]).unsqueeze(-2), g).squeeze(-2)
            dC[sl] = torch.matmul(dyl[sl].unsqueeze(-2), hs).squeeze(-2)
        return (
            du.permute(1, 2, 0),
            ddt.permute(1, 2, 0),
            dA_param.float(),
            dB.transpose(0, 1),
            dC.transpose(0, 1),
        )


# ----------------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------------
def _prepare(u, delta, A, B, C, delta_bias, delta_softplus):
    """float32 inputs of the recurrence; dt = softplus(delta + bias) in vectorised torch ops (autograd)."""
    if B.dim() != 3 or C.dim() != 3 or A.dim() != 2:
        raise ValueError("CPU selective scan supports A: (d, n), B/C: (b, n, l) only")
    dt = delta.float()
    if delta_bias is not None:
        dt = dt + delta_bias.float()[:, None]
    if delta_softplus:
        dt = F.softplus(dt)
    return u.float(), dt, A.float(), B.float().transpose(1, 2), C.float().transpose(1, 2)


def selective_scan_torch(
    u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False, return_last_state=False
):
    """Exact pure-PyTorch selective scan; same arguments and results as mamba_ssm's ``selective_scan_fn``.

    u, delta, z: (b, d, l); A: (d, n); B, C: (b, n, l); D, delta_bias: (d,). Returns ``out`` (dtype of ``u``)
    or ``(out, last_state)`` with ``last_state`` (b, d, n) float32.
    """
    uf, dt, Af, Bt, Ct = _prepare(u, delta, A, B, C, delta_bias, delta_softplus)
    y, last = _TorchScan.apply(uf, dt, Af, Bt, Ct)
    if D is not None:
        y = y + uf * D.float()[:, None]
    if z is not None:
        y = y * F.silu(z.float())
    y = y.to(u.dtype)
    return (y, last) if return_last_state else y


def selective_scan_fused(
    u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False, return_last_state=False
):
    """Selective scan through the fused numba kernels (needs numba); arguments as ``selective_scan_torch``."""
    uf, dt, Af, Bt, Ct = _prepare(u, delta, A, B, C, delta_bias, delta_softplus)
    Df = D.float() if D is not None else None
    zf = z.float() if z is not None else None
    y, last = _FusedScan.apply(uf, dt, Af, Bt, Ct, Df, zf)
    y = y.to(u.dtype)
    return (y, last) if return_last_state else y


def selective_scan_cpu(
    u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False, return_last_state=False
):
    """Selective scan on CPU: fused kernels when they work, else the exact torch path."""
    fn = selective_scan_fused if cpu_scan_backend() == "fused-numba" else selective_scan_torch
    return fn(u, delta, A, B, C, D, z, delta_bias, delta_softplus, return_last_state)


def _state_update_torch(state, x, dt, A, B, C, D, z, dt_bias, dt_softplus):
    """Reference math of transformers' ``mamba_selective_state_update`` (autograd-capable)."""
    in_dtype = x.dtype
    if dt_bias is not None:
        dt = dt + dt_bias.to(dt.dtype)
    if dt_softplus:
        dt = F.softplus(dt)
    dtf = dt.float()[..., None]
    new = state.float() * torch.exp(dtf * A.float()) + (dtf * B.float()[:, None, :]) * x.float()[..., None]
    state.copy_(new.to(state.dtype))
    out = torch.matmul(new.to(C.dtype), C.unsqueeze(-1)).squeeze(-1)
    if D is not None:
        out = out + x * D
    if z is not None:
        out = out * F.silu(z)
    return out.to(in_dtype)


def _state_update_fused(state, x, dt, A, B, C, D, z, dt_bias, dt_softplus):
    """One numba call instead of ~12 small torch ops; float32 contiguous state only."""
    dtf = dt.float()
    if dt_bias is not None:
        dtf = dtf + dt_bias.float()
    if dt_softplus:
        dtf = F.softplus(dtf)
    out = torch.empty(x.shape)
    _state_update(state.numpy(), _np(x), _np(dtf), _np(A), _np(B), _np(C), out.numpy())
    if D is not None:
        out = out + x.float() * D.float()
    if z is not None:
        out = out * F.silu(z.float())
    return out.to(x.dtype)


def selective_state_update_cpu(state, x, dt, A, B, C, D=None, z=None, dt_bias=None, dt_softplus=False):
    """One decoding step; updates ``state`` (b, d, n) in place. x, dt, z: (b, d); B, C: (b, n).

    Same results as transformers' ``mamba_selective_state_update``; returns the output (b, d).
    """
    inputs = (x, dt, A, B, C, D, z, dt_bias)
    needs_grad = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs)
    fast = (
        state.dtype == torch.float32
        and state.is_contiguous()
        and state.dim() == 3
        and B.dim() == 2
        and not needs_grad  # the kernel has no backward: keep autograd working through the torch path
        and cpu_scan_backend() == "fused-numba"
    )
    fn = _state_update_fused if fast else _state_update_torch
    return fn(state, x, dt, A, B, C, D, z, dt_bias, dt_softplus)
