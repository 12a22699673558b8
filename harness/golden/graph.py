"""What Python reads from a graph model's topology (model.json's GraphDef as JSON), without TF.js:
the ops that make TF.js refuse `execute()`, and the inputs its placeholders declare.

TF.js's GraphModel.execute() throws "... has the dynamic op 'X'. Please use model.executeAsync()
instead" when the nodes it would run contain a control-flow, dynamic-shape or hash-table op
(tfjs-converter/src/executor/model_analysis.ts, the three sets below; graph_executor.ts `compile`). A
user whose graph has one calls executeAsync, and so does the harness: `execute_with`.
"""

from __future__ import annotations

LINK = "https://github.com/tensorflow/tfjs/blob/tfjs-v4.22.0/tfjs-converter/src/executor/model_analysis.ts#L325-L347"
CONTROL_FLOW_OPS = {"Switch", "Merge", "Enter", "Exit", "NextIteration", "StatelessIf", "StatelessWhile", "if", "While"}
DYNAMIC_SHAPE_OPS = {"NonMaxSuppressionV2", "NonMaxSuppressionV3", "NonMaxSuppressionV5", "Where"}
HASH_TABLE_OPS = {"HashTable", "HashTableV2", "LookupTableImport", "LookupTableImportV2", "LookupTableFind",
                  "LookupTableFindV2", "LookupTableSize", "LookupTableSizeV2"}
ASYNC_OPS = CONTROL_FLOW_OPS | DYNAMIC_SHAPE_OPS | HASH_TABLE_OPS

# tensorflow DataType names as TF.js maps them (tfjs-converter/src/operations/operation_mapper.ts getDtype)
DTYPES = {"DT_FLOAT": "float32", "DT_HALF": "float32", "DT_DOUBLE": "float32", "DT_INT32": "int32",
          "DT_INT64": "int32", "DT_INT8": "int32", "DT_UINT8": "int32", "DT_BOOL": "bool",
          "DT_STRING": "string"}


def nodes(model_json: dict) -> list[dict]:
    """Every node of the graph, its functions' bodies too (control flow converted as functions)."""
    topology = model_json.get("modelTopology")
    if model_json.get("format") != "graph-model" or not isinstance(topology, dict):
        return []
    out = list(topology.get("node") or [])
    for function in (topology.get("library") or {}).get("function") or []:
        out += function.get("nodeDef") or []
    return out


def async_ops(model_json: dict) -> list[str]:
    """The ops of the graph for which TF.js asks for executeAsync (sorted; empty: execute works)."""
    return sorted({n.get("op") for n in nodes(model_json)} & ASYNC_OPS)


def execute_with(model_json: dict) -> str:
    """How a user runs the model: "predict" (layers), "execute" or "executeAsync" (graph)."""
    if model_json.get("format") != "graph-model":
        return "predict"
    return "executeAsync" if async_ops(model_json) else "execute"


def placeholders(model_json: dict) -> dict[str, dict]:
    """name -> {dtype, shape}: the graph's Placeholder nodes as declared (shape None: unknown rank; a
    dimension None: unknown size)."""
    out = {}
    for node in (model_json.get("modelTopology") or {}).get("node") or []:
        if node.get("op") != "Placeholder":
            continue
        attr = node.get("attr") or {}
        shape = (attr.get("shape") or {}).get("shape") or {}
        dims = None if shape.get("unknownRank") else [_size(d) for d in shape.get("dim") or []]
        out[node["name"]] = {"dtype": DTYPES.get((attr.get("dtype") or {}).get("type"), "float32"), "shape": dims}
    return out


def signature_inputs(model_json: dict) -> dict[str, dict]:
    """name -> {dtype, shape} of the signature's inputs (tensor names as TF.js takes them, "x:0")."""
    out = {}
    for key, spec in ((model_json.get("signature") or {}).get("inputs") or {}).items():
        shape = spec.get("tensorShape") or {}
        dims = None if shape.get("unknownRank") else [_size(d) for d in shape.get("dim") or []]
        out[spec.get("name", key)] = {"dtype": DTYPES.get(spec.get("dtype"), "float32"), "shape": dims}
    return out


def _size(dim: dict) -> int | None:
    size = int(dim.get("size", -1))
    return None if size < 0 else size
