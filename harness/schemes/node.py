"""Node's `file://` (tfjs-node's file system handler), and models crossing between Node and browsers.

file-node: save to `file://DIR` in Node, check the files written, load `file://DIR/model.json`.
node-to-browser: saved in Node with file://, served over http, loaded in the browser.
browser-to-node: downloaded from the browser (downloads://), loaded in Node with file://.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.schemes.base import Scheme, require
from harness.schemes.files import downloaded_pair
from harness.trip.compare import Difference
from harness.trip.roundtrip import Trip

NODE = "node"


def read_saved_dir(trip: Trip, directory: Path) -> tuple[dict[str, bytes], list[Difference]]:
    """The files tfjs-node's file handler wrote: model.json and weights.bin."""
    files = {p.name: p.read_bytes() for p in sorted(directory.iterdir())} if directory.is_dir() else {}
    if set(files) != {"model.json", "weights.bin"}:
        return files, [Difference("file", "files", f"expected model.json and weights.bin in {directory}, found "
                                  f"{sorted(files)}", expected=["model.json", "weights.bin"], actual=sorted(files))]
    model_json = json.loads(files["model.json"])
    # tfjs-node names the weights file without "./" (tfjs-node/src/io/file_system.ts)
    return files, trip.want.check_model_json("file", model_json, files["weights.bin"], ["weights.bin"])


class FileNode(Scheme):
    name = "file-node"
    hosts = ("node",)

    async def run(self, trip: Trip) -> list[Difference]:
        directory = trip.tmp / self.path(trip)
        saved, out = await trip.save_and_check({"kind": "url", "url": directory.as_uri()}, "save-result")
        if saved is None:
            return out
        _, diffs = read_saved_dir(trip, directory)
        out += diffs
        return out + await trip.load_and_check({"kind": "url", "url": (directory / "model.json").as_uri()})


class NodeToBrowser(Scheme):
    name = "node-to-browser"

    async def run(self, trip: Trip) -> list[Difference]:
        node = await trip.open_page(NODE)
        directory = trip.tmp / self.path(trip)
        saved, out = await trip.save_and_check({"kind": "url", "url": directory.as_uri()}, "save-result", page=node)
        if saved is None:
            return out
        files, diffs = read_saved_dir(trip, directory)
        out += diffs
        upload = trip.server.open_upload()
        upload.publish(files)
        url = f"{trip.server.url}/uploads/{upload.token}/model.json"
        return out + await trip.load_and_check({"kind": "url", "url": url})


class BrowserToNode(Scheme):
    name = "browser-to-node"
    needs = ("document",)  # it saves with downloads://

    def refusal_calls(self, trip: Trip) -> list[tuple[str, dict]]:
        return [("save", {"kind": "url", "url": f"downloads://{self.path(trip)}"})]

    async def run(self, trip: Trip) -> list[Difference]:
        require(trip, "downloads")
        name = self.path(trip)
        saved, out = await trip.save_and_check({"kind": "url", "url": f"downloads://{name}"}, "save-result")
        if saved is None:
            return out
        files, diffs = await downloaded_pair(trip, name)
        out += diffs
        if not files:
            return out
        for file_name, data in files.items():
            (trip.tmp / file_name).write_bytes(data)
        node = await trip.open_page(NODE)
        source = {"kind": "url", "url": (trip.tmp / f"{name}.json").as_uri()}
        return out + await trip.load_and_check(source, page=node)
