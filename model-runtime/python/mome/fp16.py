"""fp16 graphs without half-precision tracing (torch 1.13 on CPU cannot run most ops in half).

The trick: the model is traced in float64. Every place where the official model computes in float32 on purpose
(attention logits and softmax, the final L2 normalization) is an explicit `.float()`, so it appears in the
float64 trace as a Cast to FLOAT, and every return to the model's precision as a Cast to DOUBLE. Rewriting
DOUBLE -> FLOAT16 everywhere in the graph (initializers, constants, casts, declared types) then gives an fp16
graph that keeps exactly those float32 islands. Inputs and outputs stay float32 (the wrappers cast), so the
runtime's contract does not change with precision.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

DOUBLE = onnx.TensorProto.DOUBLE
FLOAT16 = onnx.TensorProto.FLOAT16


def halve_bytes(data: bytes) -> bytes:
    """float64 little-endian bytes -> float16 bytes (values beyond fp16's range saturate to +-65504)."""
    a = np.frombuffer(data, dtype='<f8')
    return np.clip(a, -65504, 65504).astype('<f2').tobytes()


def _halve_tensor_inline(t: onnx.TensorProto) -> None:
    a = numpy_helper.to_array(t)
    t.CopyFrom(numpy_helper.from_array(np.clip(a, -65504, 65504).astype(np.float16), t.name))


def _halve_type(tp: onnx.TypeProto) -> None:
    if tp.HasField('tensor_type') and tp.tensor_type.elem_type == DOUBLE:
        tp.tensor_type.elem_type = FLOAT16


def halve_graph(graph: onnx.GraphProto) -> None:
    """Every DOUBLE in nodes and declared types becomes FLOAT16 (initializers are handled by the caller, which
    streams their bytes)."""
    for node in graph.node:
        for attr in node.attribute:
            if node.op_type == 'Cast' and attr.name == 'to' and attr.i == DOUBLE:
                attr.i = FLOAT16
            elif attr.type == onnx.AttributeProto.TENSOR and attr.t.data_type == DOUBLE:
                _halve_tensor_inline(attr.t)
            elif attr.type == onnx.AttributeProto.GRAPH:
                halve_graph(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    halve_graph(g)
    for v in list(graph.input) + list(graph.output) + list(graph.value_info):
        _halve_type(v.type)
