"""Exports one class's energy of a `.ember` model to ONNX graphs.

Two graphs per class, both float32 with a dynamic batch dimension:

* energy:            ``x [N, d] → energy [N]``
* energy + gradient: ``x [N, d] → energy [N], grad [N, d]``; the gradient is built explicitly
  (no autodiff in ONNX): the forward pass keeps each layer's pre-activation ``Z_l``, then
  ``G ← dterm/dh_L · network_scale`` and for each layer from the last ``G ← (G ⊙ act'(Z_l)) W_l``
  (``W_l`` is ``[outputs, inputs]``, so this is a MatMul with the untransposed weights — the
  transpose of the forward ``x Wᵀ``), plus the base term's ``Σ_j r_j P (x − m_j)``.

E_c(x) = network_scale · term(x) + E_base(x) as in ``ember_reader``.
"""
from __future__ import annotations

import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import ember_reader as er  # noqa: E402

OPSET = 17


class _Graph:
    """Small helper that names nodes and initializers uniquely."""

    def __init__(self):
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.n = 0

    def name(self, hint: str) -> str:
        self.n += 1
        return f"{hint}_{self.n}"

    def const(self, value, hint: str = "c") -> str:
        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def const_i64(self, value, hint: str = "axes") -> str:
        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.int64), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, **attrs) -> str:
        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out


def _activation(g: _Graph, name: str, z: str) -> str:
    if name == "identity":
        return z
    if name == "silu":
        return g.op("Mul", [z, g.op("Sigmoid", [z])])
    if name == "relu":
        return g.op("Relu", [z])
    if name == "tanh":
        return g.op("Tanh", [z])
    if name == "softplus":
        return g.op("Softplus", [z])
    if name == "gelu":
        erf = g.op("Erf", [g.op("Mul", [z, g.const(1.0 / math.sqrt(2.0))])])
        return g.op("Mul", [g.op("Mul", [z, g.const(0.5)]), g.op("Add", [erf, g.const(1.0)])])
    raise ValueError(f"unknown activation {name}")


def _activation_grad(g: _Graph, name: str, z: str, h: str) -> str | None:
    """act'(z) (None for identity); ``h`` is act(z)."""
    if name == "identity":
        return None
    if name == "silu":
        s = g.op("Sigmoid", [z])
        one_minus = g.op("Sub", [g.const(1.0), s])
        return g.op("Mul", [s, g.op("Add", [g.const(1.0), g.op("Mul", [z, one_minus])])])
    if name == "relu":
        return g.op("Cast", [g.op("Greater", [z, g.const(0.0)])], to=TensorProto.FLOAT)
    if name == "tanh":
        return g.op("Sub", [g.const(1.0), g.op("Mul", [h, h])])
    if name == "softplus":
        return g.op("Sigmoid", [z])
    if name == "gelu":
        erf = g.op("Erf", [g.op("Mul", [z, g.const(1.0 / math.sqrt(2.0))])])
        cdf = g.op("Mul", [g.op("Add", [erf, g.const(1.0)]), g.const(0.5)])
        pdf = g.op("Mul", [g.op("Exp", [g.op("Mul", [g.op("Mul", [z, z]), g.const(-0.5)])]),
                           g.const(1.0 / math.sqrt(2.0 * math.pi))])
        return g.op("Add", [cdf, g.op("Mul", [z, pdf])])
    raise ValueError(f"unknown activation {name}")


def _class_energy(g: _Graph, model: er.Model, class_index: int, x: str, gradient: bool):
    """Adds class ``class_index``'s energy of encoded rows ``x`` [N, d] to ``g``: the names of its
    energy terms and (with ``gradient``) of its gradient terms."""
    c = model.classes[class_index]
    d = model.encoded_width
    energy_parts: list[str] = []
    grad_parts: list[str] = []
    if c.output is not None and c.layers:
        h, pre, post = x, [], []
        for layer in c.layers:
            w = g.const(layer.weights, "W")                     # [out, in]
            z = g.op("Gemm", [h, w, g.const(layer.bias, "b")], "z", transB=1)
            pre.append(z)
            h = _activation(g, layer.activation, z)
            post.append(h)
        if c.output == "logsumexp":
            lse = g.op("ReduceLogSumExp", [h], "lse", axes=[1], keepdims=0)
            term = g.op("Neg", [lse])
            dh = g.op("Neg", [g.op("Softmax", [h], axis=1)])
        else:
            sq = g.op("Squeeze", [h, g.const_i64([1])])
            term = g.op("Neg", [sq]) if c.output == "logodds" else sq
            dh = None  # constant ∓1 handled below
        energy_parts.append(g.op("Mul", [term, g.const(c.network_scale)]))
        if gradient:
            if dh is None:
                # dterm/dh_L is the constant ∓1: start from a [1, out] row (broadcast over N).
                sign = -1.0 if c.output == "logodds" else 1.0
                G = g.const(np.full((1, c.layers[-1].outputs), sign * c.network_scale), "dh")
            else:
                G = g.op("Mul", [dh, g.const(c.network_scale)])
            for layer, z, hh in zip(reversed(c.layers), reversed(pre), reversed(post)):
                dact = _activation_grad(g, layer.activation, z, hh)
                if dact is not None:
                    G = g.op("Mul", [G, dact])
                G = g.op("MatMul", [G, g.const(layer.weights, "Wg")])   # (G ⊙ act') W
            grad_parts.append(G)
    if c.base is not None:
        b = c.base
        k = b.components
        m = g.const(b.means.reshape(1, k, d), "means")
        diff = g.op("Sub", [g.op("Unsqueeze", [x, g.const_i64([1])]), m])     # [N, k, d]
        pd = g.op("MatMul", [diff, g.const(b.precision.T, "PT")])              # P (x - m)
        quad = g.op("ReduceSum", [g.op("Mul", [diff, pd]), g.const_i64([2])], keepdims=0)  # [N, k]
        a = g.op("Sub", [g.const(b.log_weights.reshape(1, k), "logw"), g.op("Mul", [quad, g.const(0.5)])])
        lse = g.op("ReduceLogSumExp", [a], axes=[1], keepdims=0)
        const = 0.5 * b.log_det_covariance + 0.5 * d * math.log(2 * math.pi)
        energy_parts.append(g.op("Sub", [g.const(const), lse]))
        if gradient:
            r = g.op("Unsqueeze", [g.op("Softmax", [a], axis=1), g.const_i64([2])])  # [N, k, 1]
            grad_parts.append(g.op("ReduceSum", [g.op("Mul", [r, pd]), g.const_i64([1])], keepdims=0))
    return energy_parts, grad_parts


def build_graph(model: er.Model, class_index: int, gradient: bool) -> onnx.ModelProto:
    """The ONNX model of class ``class_index``'s energy (and its input gradient)."""
    d = model.encoded_width
    g = _Graph()
    x = "x"
    energy_parts, grad_parts = _class_energy(g, model, class_index, x, gradient)
    energy = energy_parts[0]
    for p in energy_parts[1:]:
        energy = g.op("Add", [energy, p])
    g.nodes.append(helper.make_node("Identity", [energy], ["energy"]))
    outputs = [helper.make_tensor_value_info("energy", TensorProto.FLOAT, ["N"])]
    if gradient:
        grad = grad_parts[0]
        for p in grad_parts[1:]:
            grad = g.op("Add", [grad, p])
        g.nodes.append(helper.make_node("Expand", [grad, g.op("Shape", [x])], ["grad"]))  # [1, d] → [N, d]
        outputs.append(helper.make_tensor_value_info("grad", TensorProto.FLOAT, ["N", d]))
    graph = helper.make_graph(g.nodes, f"ember_class{class_index}{'_grad' if gradient else ''}",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", d])], outputs, g.inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="ember tools/bench/onnx_export.py")
    proto.ir_version = min(proto.ir_version, 9)
    onnx.checker.check_model(proto)
    return proto


def build_score_graph(model: er.Model) -> onnx.ModelProto:
    """The ONNX model of the anomaly score from raw numeric features: ``x [N, F] → score [N]``,
    with z-scoring (x − mean)/std, every class's energy, and s = −logsumexp_c(log π_c − E_c).
    Numeric and integer features only (a categorical feature has no raw float form)."""
    if any(f.kind == "categorical" for f in model.features):
        raise ValueError("the score graph takes raw numbers: the model has categorical features")
    F = len(model.features)
    g = _Graph()
    mean = np.array([f.mean for f in model.features], dtype=np.float32).reshape(1, F)
    std = np.array([f.std for f in model.features], dtype=np.float32).reshape(1, F)
    z = g.op("Div", [g.op("Sub", ["x", g.const(mean, "mean")]), g.const(std, "std")], "z")
    logits = []
    for ci, c in enumerate(model.classes):
        parts, _ = _class_energy(g, model, ci, z, gradient=False)
        energy = parts[0]
        for p in parts[1:]:
            energy = g.op("Add", [energy, p])
        logit = g.op("Sub", [g.const(math.log(c.prior)), energy])
        logits.append(g.op("Unsqueeze", [logit, g.const_i64([1])]))
    stacked = logits[0] if len(logits) == 1 else g.op("Concat", logits, axis=1)
    lse = g.op("ReduceLogSumExp", [stacked], axes=[1], keepdims=0)
    g.nodes.append(helper.make_node("Neg", [lse], ["score"]))
    graph = helper.make_graph(g.nodes, "ember_score", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", F])],
                              [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])], g.inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="ember tools/bench/onnx_export.py")
    proto.ir_version = min(proto.ir_version, 9)
    onnx.checker.check_model(proto)
    return proto
