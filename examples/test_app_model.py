"""A team's own test of its model, in its own repository (the harness installed with pip):

    pip install tfjs_io_conformance-*.whl && tfjs-conformance setup
    pytest tests/test_app_model.py --model path/to/model.json [--engine chromium ...]

Each test runs once per engine (`engine_name`; every browser engine found, or --engine). The model's
files are read by Python, never by TF.js: what TF.js loads back is compared with them, bit for bit.
The project's pytest settings need `asyncio_mode = "auto"` and session loop scopes (examples/pyproject.toml).
"""

from harness.report import document

URL = "indexeddb://my-app-model"


async def test_the_app_model_comes_back_from_indexeddb_bit_for_bit(engine_name, user_model, make_trip):
    """Save the app's model to IndexedDB, load it back, and compare what TF.js holds with the files."""
    trip = make_trip(user_model.name)
    await trip.prepare()  # serves the files and takes their reference predictions on this page
    try:
        saved = await trip.save({"kind": "url", "url": URL})
        differences = trip.check_save_result(saved)
        loaded = await trip.load({"kind": "url", "url": URL})
        differences += trip.check_loaded(loaded)
    finally:
        trip.close()
    assert not differences, document.render([d.as_json() for d in differences], f"indexeddb / {engine_name}")


async def test_the_app_code_lists_the_saved_model(engine_name, user_model, make_trip, tfjs_page):
    """The app's own JavaScript, in the same page: after a save, tf.io.listModels() lists the model."""
    trip = make_trip(user_model.name)
    await trip.prepare()
    try:
        await trip.save({"kind": "url", "url": URL})
    finally:
        trip.close()
    listed = await tfjs_page.evaluate("return Object.keys(await tf.io.listModels())")
    assert URL in listed
    assert await tfjs_page.evaluate("return tf.getBackend()") == "cpu"
