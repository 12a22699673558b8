"""`contract-*`: the refusals TF.js's own io tests assert, made the way a user's code meets them.

Each row is a sequence of calls (CONTRACTS). A call whose `expect` is an Asserted must reject, within
timeouts.TFJS_CALL_S, with the message upstream's test asserts: `equals` where the test uses
`toEqual(...)` on `err.message`, `contains` / `matches` where it uses `indexOf(...)` or
`toMatch(/.../)` / `toThrowError(/.../)`. The text is upstream's, from the test named in `upstream`
(tensorflow/tfjs at tfjs-v4.22.0); a path upstream names ('FooModel') is the row's own path here, and a
name the message quotes verbatim ('nonexistent', 'invalidurl', 'a/1') is upstream's. A call without
`expect` is set-up (a save) and must resolve.

Where upstream calls an internal factory (`browserLocalStorage('')`, not exported), the row makes the
call a user can make that reaches it (`model.save('localstorage://')`, whose router passes the empty
path on). After the calls, the storage must hold exactly what the set-up saved (`keeps`): a refused
call leaves nothing behind and removes nothing (model_management_test 'Failed moveModel to invalid
destination URL': "Verify that the source has not been removed").

Every call's outcome is kept verbatim in `observed.contract.<label>`. The rows run on the zoo's mlp
only: their subject is TF.js's API, not the model.
"""

from __future__ import annotations

import dataclasses
import json
import re

from harness.schemes.base import Scheme
from harness.schemes.files import FILE_INPUT
from harness.schemes.negative import _choose, golden_files, storage_state
from harness.schemes.storage import LS_PREFIX
from harness.trip import timeouts
from harness.trip.compare import Difference
from harness.trip.outcomes import settle
from harness.trip.roundtrip import Trip

MM = "tfjs-core/src/io/model_management_test.ts"
LS = "tfjs-core/src/io/local_storage_test.ts"
IDB = "tfjs-core/src/io/indexed_db_test.ts"
HTTP = "tfjs-core/src/io/http_test.ts"
FILES = "tfjs-core/src/io/browser_files_test.ts"
LAYERS_SAVE = "tfjs-layers/src/model_save_test.ts"
LAYERS_MODELS = "tfjs-layers/src/models_test.ts"
NODE_FS = "tfjs-node/src/io/file_system_test.ts"


@dataclasses.dataclass(frozen=True)
class Asserted:
    """What upstream's test asserts of the error's message."""

    tests: tuple[tuple[str, str], ...]  # the upstream tests that assert it: (file, test name)
    equals: str | None = None  # toEqual: the whole message
    contains: tuple[str, ...] = ()  # indexOf(...) > 0: substrings
    matches: tuple[str, ...] = ()  # toMatch / toThrowError: regexes (JavaScript syntax that Python reads alike)

    @property
    def upstream(self) -> str:
        return " and ".join(f"{file.rsplit('/', 1)[-1]} '{test}'" for file, test in self.tests)

    def fails(self, message: str) -> str | None:
        """Why `message` is not what upstream asserts (None when it is)."""
        if self.equals is not None and message != self.equals:
            return f"expected exactly {self.equals!r}"
        for text in self.contains:
            if text not in message:
                return f"expected it to contain {text!r}"
        for pattern in self.matches:
            if re.search(pattern, message) is None:
                return f"expected it to match /{pattern}/"
        return None

    def path(self, p: str) -> "Asserted":
        return self.filled({"p": p})

    def filled(self, fields: dict[str, str]) -> "Asserted":
        """`equals` and `matches` with their {name} fields filled in (the row's path, a file's name; in a
        regex, escaped)."""
        def fill(text: str, escape) -> str:
            for name, value in fields.items():
                text = text.replace(f"{{{name}}}", escape(value))
            return text

        return dataclasses.replace(self, equals=None if self.equals is None else fill(self.equals, str),
                                   matches=tuple(fill(m, re.escape) for m in self.matches))


@dataclasses.dataclass(frozen=True)
class Call:
    """One call a user's code makes. kind: "io" (`tf.io[op](...args)`), "save" (the golden's
    `model.save(args[0])`), "load" (`tf.loadLayersModel(args[0])`), "forget" (`localStorage.removeItem`,
    what upstream's test does by hand), "served" (tf.loadLayersModel of a model server's model.json whose
    body is args[0]), "files" (browserFiles over the files CHOICES[args[0]] chooses;
    without `expect` the load must give the golden)."""

    label: str
    kind: str
    op: str = ""
    args: tuple = ()
    expect: Asserted | None = None
    prepare: str = ""  # a name in PREPARE: files written under the trip's temp dir ({tmp}) before the call

    def with_path(self, p: str) -> "Call":
        args = tuple(a.replace("{p}", p) if isinstance(a, str) else a for a in self.args)
        return dataclasses.replace(self, args=args, expect=self.expect.path(p) if self.expect else None)

    def shown(self) -> str:
        if self.kind == "io":
            return f"tf.io.{self.op}({', '.join(json.dumps(a) for a in self.args)})"
        return {"save": "model.save({})", "load": "tf.loadLayersModel({})", "forget": "localStorage.removeItem({})",
                "served": "tf.loadLayersModel(a served model.json: {})",
                "files": "tf.loadLayersModel(tf.io.browserFiles({}))"}[self.kind].format(
            ", ".join(json.dumps(a) for a in self.args))


@dataclasses.dataclass(frozen=True)
class Contract:
    name: str  # the row's scheme: contract-<name>
    calls: tuple[Call, ...]
    hosts: tuple[str, ...] = ("browser",)
    # The models the storage must hold after every refused call (browsers): listModels lists them and no
    # other key is there. None: not checked (corrupt-localstorage leaves its broken models by design).
    keeps: tuple[str, ...] | None = ()


_FOO = "localstorage://{p}/FooModel"
_NO_LOAD = "Copying failed because no load handler is found for source URL invalidurl."
_NO_SAVE = "Copying failed because no save handler is found for destination URL invalidurl."
_NONEXISTENT = "Cannot find model with path 'nonexistent' in IndexedDB."
_SAME = "Old path and new path are the same: 'a/1'"
_EMPTY = "must not be null, undefined or empty"


def _missing_key(key: str, says: str, test: str) -> tuple[Call, ...]:
    url = f"localstorage://{{p}}/{key}"
    return (Call(f"save-{key}", "save", args=(url,)),
            Call(f"forget-{key}", "forget", args=(f"{LS_PREFIX}/{{p}}/{key}/{key}",)),
            Call(f"load-{key}", "load", args=(url,),
                 expect=Asserted(((LS, test),), equals=f"In local storage, the {says} of model '{{p}}/{key}' "
                                                            f"{'are' if says != 'topology' else 'is'} missing.")))


CONTRACTS: tuple[Contract, ...] = (
    Contract("model-management", keeps=(_FOO,), calls=(
        Call("save", "save", args=(_FOO,)),
        Call("copy-invalid-source", "io", "copyModel", ("invalidurl", "localstorage://{p}/a1"),
             Asserted(((MM, "Failed copyModel to invalid source URL"),), equals=_NO_LOAD)),
        Call("copy-invalid-destination", "io", "copyModel", (_FOO, "invalidurl"),
             Asserted(((MM, "Failed copyModel to invalid destination URL"),), equals=_NO_SAVE)),
        Call("move-invalid-destination", "io", "moveModel", (_FOO, "invalidurl"),
             Asserted(((MM, "Failed moveModel to invalid destination URL"),), equals=_NO_SAVE)),
        Call("remove-absent-scheme", "io", "removeModel", ("foo",),
             Asserted(((MM, "Failed deletedModel: Absent scheme"),), contains=("localstorage", "indexeddb"),
                      matches=("The url string provided does not contain a scheme",))),
        Call("remove-invalid-scheme", "io", "removeModel", ("invalidscheme://foo",),
             Asserted(((MM, "Failed deletedModel: Invalid scheme"),),
                      equals="Cannot find model manager for scheme 'invalidscheme'")),
        Call("remove-nonexistent", "io", "removeModel", ("indexeddb://nonexistent",),
             Asserted(((MM, "Failed deletedModel: Nonexistent model"), (IDB, "Manager: Failed removeModel")),
                      equals=_NONEXISTENT)),
        Call("copy-nonexistent", "io", "copyModel", ("indexeddb://nonexistent", "indexeddb://destination"),
             Asserted(((MM, "Failed copyModel"),), equals=_NONEXISTENT)),
        Call("copy-identical", "io", "copyModel", ("a/1", "a/1"),
             Asserted(((MM, "copyModel: Identical oldPath and newPath leads to Error"),), equals=_SAME)),
        Call("move-identical", "io", "moveModel", ("a/1", "a/1"),
             Asserted(((MM, "moveModel: Identical oldPath and newPath leads to Error"),), equals=_SAME)),
    )),
    Contract("corrupt-localstorage", keeps=None, calls=(
        *_missing_key("model_topology", "topology", "Loading model with missing topology fails."),
        *_missing_key("weight_specs", "weight specs", "Loading model with missing weight specs fails."),
        *_missing_key("weight_data", "binary weight values", "Loading model with missing weight data fails."),
    )),
    Contract("empty-path", calls=(
        Call("localstorage", "save", args=("localstorage://",),
             expect=Asserted(((LS, "Null, undefined or empty modelPath throws Error"),),
                             matches=(f"local storage, modelPath {_EMPTY}",))),
        Call("indexeddb", "save", args=("indexeddb://",),
             expect=Asserted(((IDB, "Null, undefined or empty modelPath throws Error"),),
                             matches=(f"IndexedDB, modelPath {_EMPTY}",))),
    )),
    Contract("http-arguments", hosts=("browser", "node"), calls=(
        *(Call(f"http-{name}", "io", "http", args,
               Asserted(((HTTP, "Empty, null or undefined URL paths lead to Error"),), matches=(_EMPTY,)))
          for name, args in (("null", (None,)), ("undefined", ()), ("empty", ("",)))),
        Call("http-existing-body", "io", "http", ("model-upload-test", {"requestInit": {"body": "existing body"}}),
             Asserted(((HTTP, "Existing body leads to Error"),),
                      matches=("requestInit is expected to have no pre-existing body",))),
        Call("empty-model-json", "served", args=("empty-object",),
             expect=Asserted(((HTTP, "Missing modelTopology and weightsManifest leads to error"),),
                             matches=("contains neither model topology or manifest",))),
    )),
    Contract("browser-files", calls=(
        Call("files-null", "io", "browserFiles", (None,),
             Asserted(((FILES, "Incorrect number of files leads to Error"),), matches=("at least 1 file",))),
        Call("files-empty", "io", "browserFiles", ([],),
             Asserted(((FILES, "Incorrect number of files leads to Error"),), matches=("at least 1 file",))),
        Call("no-model-topology", "files", args=("no-model-topology",),
             expect=Asserted(((FILES, "Missing modelTopology from JSON leads to Error"),),
                             matches=(r"modelTopology field is missing from file model\.json",))),
        Call("weights-file-not-chosen", "files", args=("weights-file-not-chosen",),
             expect=Asserted(((FILES, "Mismatch in manifest paths and file names"),),
                             equals="Weight file with basename '{missing}' is not provided.")),
        Call("duplicate-basenames", "files", args=("duplicate-basenames",),
             expect=Asserted(((FILES, "Duplicate basenames in paths fails"),),
                             equals="Duplicate file basename found in weights manifest: '{duplicate}'")),
        # not a refusal: manifest paths with directories are matched by basename, and the model loads
        Call("paths-with-directories", "files", args=("paths-with-directories",)),
    )),
    Contract("handlers", hosts=("browser", "node"), calls=(
        Call("save-without-save", "save", args=({"kind": "without-method"},),
             expect=Asserted(((LAYERS_SAVE, "Saving to a handler without save method fails"),),
                             equals="LayersModel.save() cannot proceed because the IOHandler provided does not have "
                                    "the `save` attribute defined.")),
        Call("load-without-load", "load", args=({"kind": "without-method"},),
             expect=Asserted(((LAYERS_MODELS, "IOHandler without load method causes error"),),
                             matches=("does not have .*load.* method",))),
        # upstream asserts the rejection only, no message
        Call("missing-weight", "served", args=("missing-weight",),
             expect=Asserted(((LAYERS_MODELS, "Missing weight in manifest leads to error"),))),
    )),
    Contract("file-system", hosts=("node",), calls=(
        Call("save-onto-a-file", "save", args=("file://{tmp}/save-destination",), prepare="file-at-destination",
             expect=Asserted(((NODE_FS, "save fails if path exists as a file"),), matches=(".*exists as a file.*directory.*",))),
        Call("load-nonexistent", "load", args=("file://{tmp}/foo/model.json",),
             expect=Asserted(((NODE_FS, "loading from nonexistent model.json path fails"),),
                             matches=(r"model\.json.*does not exist.*loading failed",))),
        Call("load-missing-weights", "load", args=("file://{tmp}/missing-weights/model.json",), prepare="last-weights-file-gone",
             expect=Asserted(((NODE_FS, "loading from missing weights path fails"),),
                             matches=("Weight file .*{missing} does not exist",))),
    )),
)


def _no_model_topology(model_json: dict, files: dict[str, bytes]):
    broken = {k: v for k, v in model_json.items() if k != "modelTopology"}
    return [("model.json", json.dumps(broken).encode()), *_weights(files)], {}


def _weights_file_not_chosen(model_json: dict, files: dict[str, bytes]):
    """The right number of files, one of them under another name than the manifest's."""
    weights = _weights(files)
    missing = weights[-1][0].rsplit("/", 1)[-1]
    return [("model.json", files["model.json"]), *weights[:-1], (f"not-{missing}", weights[-1][1])], {"missing": missing}


def _duplicate_basenames(model_json: dict, files: dict[str, bytes]):
    """The first weight file's path given twice in two folders (./dir1/x, ./dir2/x), two files chosen."""
    changed = json.loads(files["model.json"])
    first = changed["weightsManifest"][0]["paths"][0].rsplit("/", 1)[-1]
    changed["weightsManifest"][0]["paths"][:1] = [f"./dir1/{first}", f"./dir2/{first}"]
    weights = _weights(files)
    return [("model.json", json.dumps(changed).encode()), *weights, (f"other-{first}", weights[0][1])], {"duplicate": first}


def _paths_with_directories(model_json: dict, files: dict[str, bytes]):
    """Every manifest path under a folder (./dir1/x.bin), the files chosen by their bare names."""
    changed = json.loads(files["model.json"])
    for group in changed["weightsManifest"]:
        group["paths"] = [f"./dir1/{path.rsplit('/', 1)[-1]}" for path in group["paths"]]
    return [("model.json", json.dumps(changed).encode()), *_weights(files)], {}


def _weights(files: dict[str, bytes]) -> list[tuple[str, bytes]]:
    return [(name, data) for name, data in files.items() if name != "model.json"]


def _missing_weight(files: dict[str, bytes]) -> dict[str, bytes]:
    """The golden's files, its manifest's last weight left out (models_test 'Missing weight in manifest')."""
    changed = json.loads(files["model.json"])
    changed["weightsManifest"][-1]["weights"].pop()
    return {**files, "model.json": json.dumps(changed).encode()}


SERVED = {"empty-object": lambda files: {"model.json": b"{}"}, "missing-weight": _missing_weight}


def _file_at_destination(trip: Trip) -> dict[str, str]:
    (trip.tmp / "save-destination").write_text("foo")  # file_system_test: writeFile(dir, 'foo')
    return {}


def _last_weights_file_gone(trip: Trip) -> dict[str, str]:
    """The golden's model.json and weight files under {tmp}/missing-weights/, the last weight file left out."""
    files = trip.golden.files()
    missing = [name for name in files if name != "model.json"][-1]
    folder = trip.tmp / "missing-weights"
    for name, data in files.items():
        if name != missing:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
    return {"missing": missing}


PREPARE = {"file-at-destination": _file_at_destination, "last-weights-file-gone": _last_weights_file_gone}


# browserFiles choices by variant: (files to choose, in order, as (name, bytes); fields of the message)
CHOICES = {"no-model-topology": _no_model_topology, "weights-file-not-chosen": _weights_file_not_chosen,
           "duplicate-basenames": _duplicate_basenames, "paths-with-directories": _paths_with_directories}


class ContractScheme(Scheme):
    """One Contract as a row: every call in order, each judged by upstream's assertion; afterwards the
    storage holds what the set-up saved and nothing else."""

    models = ("mlp",)

    def __init__(self, contract: Contract):
        self.contract = contract
        self.name = f"contract-{contract.name}"
        self.hosts = contract.hosts

    async def run(self, trip: Trip) -> list[Difference]:
        p = self.path(trip)
        seen = trip.observed.setdefault("contract", {})
        out = []
        for call in (c.with_path(p) for c in self.contract.calls):
            outcome = await self._call(trip, call)
            if outcome.get("fields") and call.expect is not None:  # names only the files can give
                call = dataclasses.replace(call, expect=call.expect.filled(outcome["fields"]))
            seen[call.label] = {"call": call.shown(), **outcome}
            out += self._judge(call, outcome)
            if call.kind == "files" and call.expect is None and outcome["outcome"] == "resolved":
                out += trip.check_loaded(outcome["value"], prefix=f"{call.label}.")
            if call.expect is not None and self.contract.keeps is not None:
                out += await self._kept(trip, call, tuple(k.replace("{p}", p) for k in self.contract.keeps))
        return out

    async def _call(self, trip: Trip, call: Call) -> dict:
        deadline = timeouts.scaled(timeouts.TFJS_CALL_S)
        fields = PREPARE[call.prepare](trip) if call.prepare else {}
        if call.kind in ("save", "load"):
            where = call.args[0]
            if isinstance(where, str):
                where = {"kind": "url", "url": where.replace("{tmp}", str(trip.tmp))}
            if call.kind == "save":
                outcome = await settle(trip.save(where, deadline=deadline))
            else:
                outcome = await settle(trip.load(where, prefix=f"{call.label}.", deadline=deadline))
            return {**outcome, "fields": fields} if fields else outcome
        if call.kind == "forget":
            keys = await trip.step("forgetStorageItem", {"key": call.args[0]})
            return {"outcome": "resolved", "value": {"localStorage": keys["localStorage"]}}
        if call.kind == "files":
            return await self._files(trip, call, deadline)
        if call.kind == "served":  # the files SERVED[args[0]] makes of the golden's, on a model server
            upload = trip.server.open_upload()
            upload.publish(SERVED[call.args[0]](trip.golden.files()))
            url = f"{trip.server.url}/uploads/{upload.token}/model.json"
            return await settle(trip.load({"kind": "url", "url": url}, prefix=f"{call.label}.", deadline=deadline))
        reply = await trip.step("manage", {"op": call.op, "args": list(call.args), "deadline": deadline})
        if "error" in reply:
            name = "hang" if reply["error"]["name"] == "DeadlineExceeded" else "rejected"
            return {"outcome": name, "error": reply["error"]}
        return {"outcome": "resolved", "value": reply.get("value")}

    async def _files(self, trip: Trip, call: Call, deadline: float) -> dict:
        """Choose the files of the variant `call.args[0]` (CHOICES) in the page's file input and load them
        with browserFiles. A choice after the first reloads the page where the build's file input adds
        to the selection (Build.file_choice "append": WebDriver's send_keys), as negative-browser-files does."""
        model_json, files = golden_files(trip)
        chosen, fields = CHOICES[call.args[0]](model_json, files)
        if trip.state.get("chosen") and trip.page.build is not None and trip.page.build.file_choice == "append":
            await trip.page.reload(trip.timeout)
        trip.state["chosen"] = True
        await _choose(trip, [(call.label, name, data) for name, data in chosen])
        outcome = await settle(trip.load({"kind": "browserFiles", "input": FILE_INPUT}, prefix=f"{call.label}.",
                                         deadline=deadline))
        outcome["fields"] = fields
        return outcome

    @staticmethod
    def _judge(call: Call, outcome: dict) -> list[Difference]:
        shown = call.shown()
        if call.expect is None:  # set-up: it must resolve
            if outcome["outcome"] == "resolved":
                return []
            error = outcome["error"]
            return [Difference("setup", call.label, f"{shown} failed: {error['name']}: {error['message']}",
                               actual=error["message"])]
        if outcome["outcome"] == "resolved":
            value = json.dumps(outcome.get("value"), default=str)[:200]
            return [Difference("accepted", call.label, f"{shown} resolved ({value}), but {call.expect.upstream} "
                                                       f"asserts it rejects",
                               expected="a rejection", actual="resolved")]
        error = outcome["error"]
        if outcome["outcome"] == "hang":
            return [Difference("hang", call.label, f"{shown}: {error['message']}")]
        why = call.expect.fails(str(error["message"]))
        if why:
            return [Difference("message", call.label, f"{shown} rejected with {error['name']}: {error['message']!r}; "
                                                      f"{call.expect.upstream} asserts it: {why}",
                               expected=call.expect.equals or list(call.expect.contains + call.expect.matches),
                               actual=error["message"])]
        return []

    @staticmethod
    async def _kept(trip: Trip, call: Call, keeps: tuple[str, ...]) -> list[Difference]:
        """After a refused call: tf.io.listModels() lists exactly `keeps`, and the storage holds their keys only."""
        state = await storage_state(trip)
        if state is None:
            return []
        out = []
        if state["listModels"] != sorted(keeps):
            out.append(Difference("listModels", f"after {call.label}", f"after {call.shown()} was refused, "
                                                                       f"tf.io.listModels() lists {state['listModels']}, "
                                                                       f"expected {sorted(keeps)}",
                                  expected=sorted(keeps), actual=state["listModels"]))
        held = [f"localStorage {LS_PREFIX}/{k.split('://', 1)[1]}/" for k in keeps if k.startswith("localstorage://")]
        held_idb = {k.split("://", 1)[1] for k in keeps if k.startswith("indexeddb://")}
        stray = [k for k in state["keys"] if not any(k.startswith(h) for h in held)
                 and not (k.startswith("indexeddb ") and k.split(" ", 2)[2] in held_idb)]
        if stray:
            out.append(Difference("storage", f"after {call.label}", f"after {call.shown()} was refused, the storage "
                                                                    f"holds {stray}", actual=stray))
        return out


CONTRACT: list[Scheme] = [ContractScheme(c) for c in CONTRACTS]
