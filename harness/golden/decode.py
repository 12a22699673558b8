"""What TF.js holds after loading weights, computed by Python (numpy) from the files alone.

`held(specs, data)` decodes every weight of a manifest (`weightSpecs` in order, `data` the shards
concatenated) the way tfjs-core's `io_utils.decodeWeight` (4.22.0) does: quantized float32 weights are
dequantized (uint8/uint16 affine: `q * scale + min` in float64, rounded once to float32; float16
widened), quantized int32 weights are rounded (`Math.round(q * scale + min)`), everything else is
taken as stored. It never asks TF.js: the expectation of a user's model and the tensors a graph model
holds are judged against it.
"""

from __future__ import annotations

import math

import numpy as np

from harness.golden import writer
from harness.trip.compare import weight_layout


class ManifestError(ValueError):
    """The weights manifest and the weight files do not agree (the message names the weight)."""


def held(specs: list[dict], data: bytes) -> list[tuple[dict, bytes]]:
    """(spec as TF.js holds the weight: name, shape, dtype and its `group` if any; the bytes it holds) per weight."""
    out = []
    layout = weight_layout(specs, data)
    end = layout[-1][1] + layout[-1][2] if layout else 0
    if end > len(data):
        raise ManifestError(f"the manifest accounts for {end} bytes of weights; the files hold {len(data)}")
    for spec, offset, size in layout:
        raw = data[offset:offset + size]
        quantization = spec.get("quantization")
        kept = {k: spec[k] for k in ("name", "shape", "dtype", "group") if k in spec}
        if not quantization:
            out.append((kept, bytes(raw)))
            continue
        stored = writer.decode_tensor(raw, quantization["dtype"], spec["shape"])
        if spec["dtype"] == "float32":
            values = writer.dequantize(stored, quantization)
        elif spec["dtype"] == "int32" and quantization["dtype"] in ("uint8", "uint16"):
            real = stored.astype(np.float64) * float(quantization["scale"]) + float(quantization["min"])
            values = np.floor(real + 0.5).astype("<i4")  # Math.round: halves go up
        else:
            raise ManifestError(f"weight {spec['name']}: a {spec['dtype']} weight quantized as "
                                f"{quantization['dtype']} is not something TF.js decodes")
        out.append((kept, np.ascontiguousarray(values).astype(values.dtype.newbyteorder("<")).tobytes()))
    return out


def held_data(specs: list[dict], data: bytes) -> tuple[list[dict], bytes]:
    """`held` as one spec list and one byte string (what a layers model saves after loading)."""
    pairs = held(specs, data)
    return [s for s, _ in pairs], b"".join(b for _, b in pairs)


def element_count(spec: dict) -> int:
    return math.prod(spec["shape"])
