"""A plain float32 numpy implementation of one class's energy and input gradient — the
"numpy" contender of the benchmark (the float64 reference in ``ember_reader`` is for checking,
not speed). Weights are transposed once up front; the gradient is the explicit backward pass.
"""
from __future__ import annotations

import math

import numpy as np

import ember_reader as er

_SQRT_HALF = np.float32(1.0 / math.sqrt(2.0))
_INV_SQRT_2PI = np.float32(1.0 / math.sqrt(2.0 * math.pi))


def _erf32(z: np.ndarray) -> np.ndarray:
    return er._erf(z.astype(np.float64)).astype(np.float32)


def _act(name: str, z: np.ndarray) -> np.ndarray:
    if name == "identity":
        return z
    if name == "silu":
        return z / (np.float32(1) + np.exp(-z))
    if name == "relu":
        return np.maximum(z, np.float32(0))
    if name == "tanh":
        return np.tanh(z)
    if name == "softplus":
        return np.logaddexp(np.float32(0), z)
    if name == "gelu":
        return np.float32(0.5) * z * (np.float32(1) + _erf32(z * _SQRT_HALF))
    raise ValueError(name)


def _dact(name: str, z: np.ndarray, h: np.ndarray) -> np.ndarray | None:
    if name == "identity":
        return None
    if name == "silu":
        s = np.float32(1) / (np.float32(1) + np.exp(-z))
        return s * (np.float32(1) + z * (np.float32(1) - s))
    if name == "relu":
        return (z > 0).astype(np.float32)
    if name == "tanh":
        return np.float32(1) - h * h
    if name == "softplus":
        return np.float32(1) / (np.float32(1) + np.exp(-z))
    if name == "gelu":
        return (np.float32(0.5) * (np.float32(1) + _erf32(z * _SQRT_HALF))
                + z * np.exp(np.float32(-0.5) * z * z) * _INV_SQRT_2PI)
    raise ValueError(name)


class NumpyEnergy:
    """Class ``class_index`` of ``model``: ``energy(x)`` and ``energy_and_grad(x)`` on float32 rows."""

    def __init__(self, model: er.Model, class_index: int):
        c = model.classes[class_index]
        self.d = model.encoded_width
        self.output = c.output if c.layers else None
        self.scale = np.float32(c.network_scale)
        self.layers = [(np.ascontiguousarray(l.weights.T, dtype=np.float32), np.asarray(l.weights, np.float32),
                        np.asarray(l.bias, np.float32), l.activation) for l in c.layers]
        self.base = None
        if c.base is not None:
            b = c.base
            self.base = (np.asarray(b.means, np.float32), np.asarray(b.log_weights, np.float32),
                         np.ascontiguousarray(b.precision.T, dtype=np.float32),
                         np.float32(0.5 * b.log_det_covariance + 0.5 * self.d * math.log(2 * math.pi)))

    def _forward(self, x: np.ndarray, keep: bool):
        h, cache = x, []
        for wt, _, b, act in self.layers:
            z = h @ wt + b
            h = _act(act, z)
            if keep:
                cache.append((z, h))
        return h, cache

    def energy_and_grad(self, x: np.ndarray, want_grad: bool = True):
        """(energy [N], grad [N, d] or None), float32."""
        n = x.shape[0]
        e = np.zeros(n, np.float32)
        g = np.zeros((n, self.d), np.float32) if want_grad else None
        if self.output is not None:
            h, cache = self._forward(x, want_grad)
            if self.output == "logsumexp":
                top = h.max(axis=1, keepdims=True)
                ex = np.exp(h - top)
                s = ex.sum(axis=1, keepdims=True)
                e += self.scale * -(top[:, 0] + np.log(s[:, 0]))
                G = -(ex / s) * self.scale if want_grad else None
            else:
                sign = np.float32(-1) if self.output == "logodds" else np.float32(1)
                e += self.scale * sign * h[:, 0]
                G = np.full((1, 1), sign * self.scale, np.float32) if want_grad else None
            if want_grad:
                for (_, w, _, act), (z, hh) in zip(reversed(self.layers), reversed(cache)):
                    da = _dact(act, z, hh)
                    if da is not None:
                        G = G * da
                    G = G @ w
                g += G
        if self.base is not None:
            means, logw, pt, const = self.base
            if means.shape[0] == 1:
                diff = x - means[0]
                pd = diff @ pt
                quad = np.einsum("nd,nd->n", diff, pd)
                e += const - logw[0] + np.float32(0.5) * quad
                if want_grad:
                    g += pd
            else:
                diff = x[:, None, :] - means[None, :, :]
                pd = diff @ pt
                a = logw[None, :] - np.float32(0.5) * np.einsum("nkd,nkd->nk", diff, pd)
                top = a.max(axis=1, keepdims=True)
                ex = np.exp(a - top)
                s = ex.sum(axis=1, keepdims=True)
                e += const - (top[:, 0] + np.log(s[:, 0]))
                if want_grad:
                    g += np.einsum("nk,nkd->nd", ex / s, pd)
        return e, g

    def energy(self, x: np.ndarray) -> np.ndarray:
        return self.energy_and_grad(x, want_grad=False)[0]
