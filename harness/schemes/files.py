"""`downloads://NAME` (real browser downloads) and `tf.io.browserFiles` (a real file chooser).

downloads: TF.js clicks two blob links, NAME.json and NAME.weights.bin; the driver captures both
files from the browser (never from a hook in the page), and they are loaded back through
browserFiles, as a user would who downloaded a model and picked the files again.
browser-files: the golden's own files (model.json and every shard) chosen in <input type=file>.

The guide's promise ("Save and load models", File Downloads): "This will cause the browser to
download the model files to the user's machine. Two files will be produced: 1. A text JSON file
named [my-model].json ... 2. A binary file carrying the weight values named [my-model].weights.bin."
"""

from __future__ import annotations

import json

from harness.engines.base import DownloadsIncomplete
from harness.schemes.base import Scheme, require
from harness.trip import timeouts
from harness.trip.compare import Difference
from harness.trip.roundtrip import Trip

FILE_INPUT = "harness-files"  # the <input type=file multiple> in harness/js/page.html


def delivery(name: str, arrived: list[str]) -> Difference:
    """The difference for a downloads://NAME save that delivered only `arrived` of its two files."""
    json_file, weights = f"{name}.json", f"{name}.weights.bin"
    if arrived == [weights]:
        message = f"only the weights file {weights} arrived; {json_file} missing"
    elif arrived == [json_file]:
        message = f"only the model file {json_file} arrived; {weights} missing"
    elif not arrived:
        message = f"neither {json_file} nor {weights} arrived"
    else:
        message = f"expected {json_file} and {weights}, got {arrived}"
    return Difference("downloads", "files", message, expected=[json_file, weights], actual=arrived)


async def downloaded_pair(trip: Trip, name: str) -> tuple[dict[str, bytes], list[Difference]]:
    """The two files a `downloads://NAME` save makes, as the browser delivered them, and their checks.
    The caller has checked that the build can capture downloads (require "downloads")."""
    try:
        files = await trip.page.downloads(2, timeouts.scaled(timeouts.DOWNLOAD_S))
    except DownloadsIncomplete as e:
        trip.observed["downloads"] = {"arrived": sorted(e.arrived), "unfinished": e.unfinished, "driver": str(e)}
        return {}, [delivery(name, sorted(e.arrived))]
    trip.observed["downloads"] = sorted(files)
    differences = check_downloaded_pair(trip, name, files)
    return (files if set(files) == {f"{name}.json", f"{name}.weights.bin"} else {}), differences


async def choose_files(trip: Trip, files: dict[str, bytes], page=None) -> list[str]:
    """Write `files` to the trip's temp dir and choose them in the page's file input."""
    paths = []
    for name, data in files.items():
        path = trip.tmp / name
        path.write_bytes(data)
        paths.append(str(path))
    await (page or await trip.loading_page()).set_input_files(f"#{FILE_INPUT}", paths, trip.timeout)
    return paths


def check_downloaded_pair(trip: Trip, name: str, files: dict[str, bytes]) -> list[Difference]:
    """The two files of a `downloads://NAME` save: names, manifest path, content."""
    want = {f"{name}.json", f"{name}.weights.bin"}
    if set(files) != want:
        return [delivery(name, sorted(files))]
    try:
        model_json = json.loads(files[f"{name}.json"])
    except ValueError as e:
        return [Difference("downloads", f"{name}.json", f"not JSON: {e}")]
    return trip.want.check_model_json("downloads", model_json, files[f"{name}.weights.bin"], [f"./{name}.weights.bin"])


class Downloads(Scheme):
    name = "downloads"
    needs = ("document",)

    def refusal_calls(self, trip: Trip) -> list[tuple[str, dict]]:
        return [("save", {"kind": "url", "url": f"downloads://{self.path(trip)}"})]  # it loads with browserFiles

    async def run(self, trip: Trip) -> list[Difference]:
        require(trip, "downloads")
        saved, out = await trip.save_and_check({"kind": "url", "url": f"downloads://{self.path(trip)}"}, "save-result")
        if saved is None:
            return out
        files, diffs = await downloaded_pair(trip, self.path(trip))
        if not files:  # nothing a user could load back
            return out + diffs
        await choose_files(trip, files)  # load them back even if their content already differs
        return out + diffs + await trip.load_and_check({"kind": "browserFiles", "input": FILE_INPUT})


class BrowserFiles(Scheme):
    name = "browser-files"

    async def run(self, trip: Trip) -> list[Difference]:
        model_file = trip.golden.dir / trip.golden.examples.get("model_file", "model.json")
        files = {"model.json": model_file.read_bytes()}  # the model's own files, as on disk
        shards = [p for group in json.loads(files["model.json"]).get("weightsManifest", []) for p in group["paths"]]
        # Last shard first: a user picks files in any order and TF.js matches them by name (a loader that
        # took them by position would pass with the manifest's order).
        files.update({p: (trip.golden.dir / p).read_bytes() for p in reversed(shards)})
        await choose_files(trip, files)
        trip.observed["files"] = list(files)
        return await trip.load_and_check({"kind": "browserFiles", "input": FILE_INPUT})
