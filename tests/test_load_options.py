"""What the load-options rows expect of onProgress and fetchFunc (harness.schemes.load_options),
without an engine: upstream's literal fractions, and a fetchFunc that missed a request or its
requestInit is a difference."""

from harness.schemes.load_options import HEADER, LoadOptions, expected_progress


def test_progress_is_upstreams_literal_for_two_weight_files():
    assert expected_progress(2) == [0.25, 0.5, 0.75, 1]  # models_test.ts 'with onProgress callback from URL'
    assert expected_progress(1) == [0.5, 1]
    seven = expected_progress(7)
    assert len(seven) == 14 and seven[6] == 0.5 and seven[-1] == 1 and seven == sorted(seven)


FILES = {"model.json": b"{}", "group1-shard1of1.bin": b"\0"}
URL = "http://127.0.0.1:1/uploads/t/model.json"
SECRET = {HEADER: "k"}


def fetch(name, credentials="include", key="k"):
    return {"url": f"http://127.0.0.1:1/uploads/t/{name}", "credentials": credentials, "headers": {HEADER.lower(): key}}


def test_every_request_through_fetchfunc_with_the_request_init_passes():
    assert LoadOptions._check_fetches(URL, FILES, [fetch("model.json"), fetch("group1-shard1of1.bin")], SECRET) == []


def test_a_request_fetchfunc_did_not_see_or_without_the_request_init_is_a_difference():
    (missed,) = LoadOptions._check_fetches(URL, FILES, [fetch("model.json")], SECRET)
    assert missed.what == "fetchFunc" and "group1-shard1of1.bin" in missed.message
    (bare,) = LoadOptions._check_fetches(URL, FILES, [fetch("model.json"), fetch("group1-shard1of1.bin", credentials=None)],
                                         SECRET)
    assert bare.what == "requestInit"
    (keyless,) = LoadOptions._check_fetches(URL, FILES, [fetch("model.json", key="x"), fetch("group1-shard1of1.bin")],
                                            SECRET)
    assert keyless.what == "requestInit"
