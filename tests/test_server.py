"""Tests for harness.server: a real HarnessServer on 127.0.0.1, driven with aiohttp's client."""

from __future__ import annotations

import asyncio
import os
import ssl
from urllib.parse import urlsplit

import aiohttp
import pytest
import pytest_asyncio
from yarl import URL

from harness import golden, tfjs
from harness.paths import REPO
from harness.server import HarnessServer


@pytest_asyncio.fixture
async def small_server(build):
    srv = await HarnessServer([build], max_upload=1024).start(port=0)
    yield srv
    await srv.stop()


@pytest_asyncio.fixture
async def client():
    async with aiohttp.ClientSession() as session:
        yield session


def raw(server: HarnessServer, path: str) -> URL:
    """The URL exactly as written: no client-side normalisation of `..` or percent-escapes."""
    return URL(server.url + path, encoded=True)


# --- binding ---


async def test_binds_loopback_only(server, client):
    url = urlsplit(server.url)
    assert url.scheme == "http" and url.hostname == "127.0.0.1" and url.port and url.port > 0
    addresses = server._runner.addresses
    # The page's site, its CDN port and its TLS port on 127.0.0.1, the second site (cross-site frames) on
    # 127.0.0.2: loopback only.
    assert addresses and all(addr[0] in ("127.0.0.1", "127.0.0.2") for addr in addresses), addresses
    https = urlsplit(server.https_url)
    assert https.scheme == "https" and https.hostname == "127.0.0.1"
    second = urlsplit(server.cross_site_url)
    assert second.hostname == "127.0.0.2" and second.port
    cdn = urlsplit(server.cdn_url)  # the hosting profiles' host: another origin of the page's site
    assert cdn.hostname == "127.0.0.1" and cdn.port not in (url.port, https.port)
    assert sorted(addr[1] for addr in addresses) == sorted([url.port, cdn.port, https.port, second.port])
    async with client.get(f"{server.cross_site_url}/page?tfjs={next(iter(server.tfjs))}") as r:
        assert r.status == 200
    async with client.get(f"{server.url}/page?tfjs={next(iter(server.tfjs))}") as r:
        assert r.status == 200
    # Bound to 127.0.0.1 itself, not 0.0.0.0: another loopback address of this host is refused.
    with pytest.raises(OSError):
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.2", url.port), timeout=5)
        writer.close()


async def test_bound_to_every_interface_pages_go_to_the_public_name(build, client):
    """--server-bind 0.0.0.0 --server-host NAME: what a browser on another machine is sent to."""
    srv = await HarnessServer([build]).start("0.0.0.0", public_host="localhost")
    try:
        url, https = urlsplit(srv.url), urlsplit(srv.https_url)
        assert url.hostname == "localhost" and https.hostname == "localhost" and url.port != https.port
        assert all(addr[0] == "0.0.0.0" for addr in srv._runner.addresses)
        async with client.get(f"http://127.0.0.2:{url.port}/page?tfjs={next(iter(srv.tfjs))}") as r:
            assert r.status == 200  # reachable on an address other than the loopback one
        async with client.get(f"{srv.https_url}/page?tfjs={next(iter(srv.tfjs))}", ssl=False) as r:
            assert r.status == 200
        context = ssl.create_default_context(cadata=srv.ca_pem.decode())
        async with client.get(f"{srv.https_url}/page?tfjs={next(iter(srv.tfjs))}", ssl=context) as r:
            assert r.status == 200  # the certificate names the public host
    finally:
        await srv.stop()


# --- page and TF.js bundle ---


async def test_page_loads_the_requested_tfjs(server, client, build):
    async with client.get(f"{server.url}/page", params={"tfjs": build.version, "backend": "cpu"}) as r:
        assert r.status == 200
        assert r.content_type == "text/html"
        html = await r.text()
    assert f'/tfjs/{build.version}/tf.min.js' in html
    assert "{{" not in html
    assert server.page_url(build.version, "cpu") == f"{server.url}/page?tfjs={build.version}&backend=cpu"
    # a private window's page: the same page, marked for the driver that opens it in private browsing mode
    private = server.page_url(build.version, "cpu", "private-window")
    assert private == f"{server.url}/page?tfjs={build.version}&backend=cpu&mode=private"
    persistent = server.page_url(build.version, "cpu", "persistent-window")
    assert persistent == f"{server.url}/page?tfjs={build.version}&backend=cpu&mode=persistent"


@pytest.mark.parametrize("backend", ["cpu", "wasm"])
async def test_a_window_that_relays_its_steps_loads_no_tfjs_and_its_frame_does(server, client, build, backend):
    """A worker or frame row's window only relays the steps (harness/js/page.js): the context loads its own TF.js."""
    async def page(**query) -> str:
        async with client.get(f"{server.url}/page", params={"tfjs": build.version, "backend": backend, **query}) as r:
            assert r.status == 200
            return await r.text()
    for context in ("dedicated-worker", "service-worker", "iframe-same-origin"):
        assert '<script src="/tfjs/' not in await page(context=context), context
    assert f"/tfjs/{build.version}/tf.min.js" in await page(frame="1")  # the frame runs the steps
    assert f"/tfjs/{build.version}/tf.min.js" in await page(mode="private")  # a private window runs them itself


@pytest.mark.parametrize("version", ["0.0.0-nope", ""])
async def test_page_unknown_tfjs_version_is_404_listing_known(server, client, build, version):
    async with client.get(f"{server.url}/page", params={"tfjs": version}) as r:
        assert r.status == 404
        text = await r.text()
    assert build.version in text
    assert "no TF.js build" in text


async def test_tfjs_bundle_is_served_byte_identically(server, client, build):
    async with client.get(f"{server.url}/tfjs/{build.version}/tf.min.js") as r:
        assert r.status == 200
        body = await r.read()
        assert r.headers["Content-Type"].startswith("text/javascript")
        # a build id names one file for good: a kept browser context fetches and compiles it once
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert body == build.bundle.read_bytes()
    async with client.get(f"{server.url}/tfjs/{build.version}/tf.min.js") as r:  # the second answer: from memory
        assert await r.read() == body


@pytest.mark.parametrize("file, on_disk", [("../package.json", "package.json"), ("tf.es2017.js", "dist/tf.es2017.js"),
                                           ("index.js", "dist/index.js")])
async def test_tfjs_serves_only_bundle_files(server, client, build, file, on_disk):
    assert (build.dist.parent / on_disk).is_file()  # it exists: the 404 is the server's choice
    quoted = file.replace("/", "%2F")
    async with client.get(raw(server, f"/tfjs/{build.version}/{quoted}")) as r:
        assert r.status == 404


async def test_tfjs_package_json_is_404(server, client, build):
    async with client.get(f"{server.url}/tfjs/{build.version}/package.json") as r:
        assert r.status == 404


async def test_tfjs_unknown_version_is_404(server, client):
    async with client.get(f"{server.url}/tfjs/0.0.0-nope/tf.min.js") as r:
        assert r.status == 404


# --- static files ---


async def test_fixture_file_is_served_byte_identically(server, client):
    async with client.get(f"{server.url}/fixtures/mlp/model.json") as r:
        assert r.status == 200
        body = await r.read()
    assert body == (golden.FIXTURES / "mlp" / "model.json").read_bytes()
    async with client.get(f"{server.url}/fixtures/mlp/group1-shard1of1.bin") as r:
        assert await r.read() == golden.load("mlp").weight_data


async def test_page_js_is_served(server, client):
    async with client.get(f"{server.url}/js/page.js") as r:
        assert r.status == 200
        assert await r.read() == (REPO / "harness" / "js" / "page.js").read_bytes()


@pytest.mark.parametrize(
    "path, secret",
    [
        ("/fixtures/../pyproject.toml", REPO / "pyproject.toml"),
        ("/fixtures/%2e%2e/pyproject.toml", REPO / "pyproject.toml"),
        ("/fixtures/..%2fpyproject.toml", REPO / "pyproject.toml"),
        ("/fixtures/%2e%2e%2fpyproject.toml", REPO / "pyproject.toml"),
        ("/fixtures/mlp/../../pyproject.toml", REPO / "pyproject.toml"),
        ("/js/../plugin.py", REPO / "harness" / "plugin.py"),
        ("/js/%2e%2e/plugin.py", REPO / "harness" / "plugin.py"),
        ("/js/..%2fplugin.py", REPO / "harness" / "plugin.py"),
        ("/fixtures//etc/passwd", None),
        ("/fixtures/%2fetc%2fpasswd", None),
    ],
)
async def test_path_traversal_never_serves_the_file(server, client, path, secret):
    async with client.get(raw(server, path)) as r:
        status, body = r.status, await r.read()
    assert 400 <= status < 500, (path, status)
    needle = secret.read_bytes() if secret else b"root:"
    assert needle not in body


# --- results ---


async def test_posted_result_is_returned_byte_identically(server, client):
    token = server.expect()
    body = os.urandom(3 * 1024 * 1024)
    async with client.post(f"{server.url}/results/{token}/weights.bin", data=body) as r:
        assert r.status == 204
    async with client.post(f"{server.url}/results/{token}/model.json", data=b'{"a": 1}') as r:
        assert r.status == 204
    got = server.take(token)
    assert got == {"weights.bin": body, "model.json": b'{"a": 1}'}
    with pytest.raises(KeyError):  # the slot is closed
        server.take(token)


async def test_tokens_are_separate(server, client):
    a, b = server.expect(), server.expect()
    assert a != b
    async with client.post(f"{server.url}/results/{a}/x", data=b"A") as r:
        assert r.status == 204
    assert server.take(b) == {}
    assert server.take(a) == {"x": b"A"}


async def test_post_to_unknown_token_is_404(server, client):
    async with client.post(f"{server.url}/results/0123456789abcdef/x.bin", data=b"data") as r:
        assert r.status == 404
    token = server.expect()
    server.take(token)
    async with client.post(f"{server.url}/results/{token}/x.bin", data=b"data") as r:
        assert r.status == 404  # a taken slot is closed


@pytest.mark.parametrize("name", ["..%2Fx", ".hidden", "a%2Fb", "a%00b", "..", "%2e%2e", "a%5Cb", "-x", "a%20b"])
async def test_bad_artifact_names_are_refused_and_not_stored(server, client, name):
    token = server.expect()
    async with client.post(raw(server, f"/results/{token}/{name}"), data=b"payload") as r:
        assert r.status in (400, 404), (name, r.status)
    assert server.take(token) == {}


async def test_same_name_twice_is_409_and_first_body_kept(server, client):
    token = server.expect()
    async with client.post(f"{server.url}/results/{token}/w.bin", data=b"first") as r:
        assert r.status == 204
    async with client.post(f"{server.url}/results/{token}/w.bin", data=b"second") as r:
        assert r.status == 409
    assert server.take(token) == {"w.bin": b"first"}


async def test_body_over_max_upload_is_413(small_server, client):
    token = small_server.expect()
    async with client.post(f"{small_server.url}/results/{token}/ok.bin", data=b"x" * 1024) as r:
        assert r.status == 204  # exactly the limit is fine
    async with client.post(f"{small_server.url}/results/{token}/big.bin", data=b"x" * 1025) as r:
        assert r.status == 413
    assert small_server.take(token) == {"ok.bin": b"x" * 1024}


async def _ws_post(ws, token: str, name: str, body: bytes, *, size: int | None = None, chunk: int = 1 << 20) -> dict:
    await ws.send_json({"token": token, "name": name, "size": len(body) if size is None else size})
    for offset in range(0, len(body), chunk):
        await ws.send_bytes(body[offset:offset + chunk])
    return await ws.receive_json(timeout=10)


async def test_artifacts_over_the_websocket_arrive_byte_identically(server, client):
    """/results-ws (Build.upload = "websocket"): several artifacts in 1 MiB frames on one socket, an empty one too."""
    token = server.expect()
    body = os.urandom(3 * 1024 * 1024 + 5)
    async with client.ws_connect(f"{server.url}/results-ws") as ws:
        assert await _ws_post(ws, token, "weights.bin", body) == {"ok": True}
        assert await _ws_post(ws, token, "model.json", b'{"a": 1}') == {"ok": True}
        assert await _ws_post(ws, token, "empty.bin", b"") == {"ok": True}
    assert server.take(token) == {"weights.bin": body, "model.json": b'{"a": 1}', "empty.bin": b""}


@pytest.mark.parametrize("case", ["unknown-token", "bad-name", "twice", "more-than-announced", "over-max-upload"])
async def test_a_refused_websocket_artifact_says_why_closes_and_stores_nothing(small_server, client, case):
    token = small_server.expect()
    async with client.ws_connect(f"{small_server.url}/results-ws") as ws:
        if case == "unknown-token":
            answer = await _ws_post(ws, "0123456789abcdef", "x.bin", b"data")
        elif case == "bad-name":
            answer = await _ws_post(ws, token, "../x", b"data")
        elif case == "twice":
            assert await _ws_post(ws, token, "w.bin", b"first") == {"ok": True}
            answer = await _ws_post(ws, token, "w.bin", b"second")
        elif case == "more-than-announced":
            answer = await _ws_post(ws, token, "w.bin", b"12345678", size=4)
        else:
            answer = await _ws_post(ws, token, "big.bin", b"x" * 1025)
        assert set(answer) == {"error"}, answer
        assert (await ws.receive(timeout=10)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert small_server.take(token) == ({"w.bin": b"first"} if case == "twice" else {})


async def test_stop_closes_the_pages_open_websockets_at_once(build, client):
    """A page keeps its /results-ws socket open; stopping the server must not wait for it (aiohttp's
    cleanup waited 60 s for each: a Firefox session's last row took 122 s of teardown)."""
    srv = await HarnessServer([build]).start(port=0)
    async with client.ws_connect(f"{srv.url}/results-ws") as ws:
        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(srv.stop(), 10)
        assert asyncio.get_running_loop().time() - started < 5
        assert (await ws.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


# --- backends: the wasm and webgpu packages, a cross-origin isolated wasm page ---


async def test_wasm_page_is_cross_origin_isolated_and_loads_its_backend(server, client, build):
    async with client.get(f"{server.url}/page", params={"tfjs": build.version, "backend": "wasm"}) as r:
        assert r.status == 200
        assert r.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert r.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        html = await r.text()
    assert f'<script src="/tfjs/{build.version}/wasm/tf-backend-wasm.min.js"></script>' in html
    assert f'"wasmPaths": "/tfjs/{build.version}/wasm/"' in html and '"base": "wasm"' in html
    async with client.get(f"{server.url}/page", params={"tfjs": build.version, "backend": "webgl-f16"}) as r:
        assert "Cross-Origin-Embedder-Policy" not in r.headers  # only a wasm page needs isolation
        html = await r.text()
    assert '"WEBGL_FORCE_F16_TEXTURES": true' in html and "tf-backend-wasm" not in html


async def test_unknown_backend_page_is_404_naming_the_known(server, client, build):
    async with client.get(f"{server.url}/page", params={"tfjs": build.version, "backend": "gpu"}) as r:
        assert r.status == 404
        assert "webgl-f16" in await r.text()


@pytest.mark.parametrize("base, file, kind", [("wasm", "tfjs-backend-wasm-threaded-simd.wasm", "application/wasm"),
                                              ("wasm", "tf-backend-wasm.min.js", "text/javascript"),
                                              ("webgpu", "tf-backend-webgpu.min.js", "text/javascript")])
async def test_backend_files_are_served_with_their_mime_types(server, client, build, base, file, kind):
    async with client.get(f"{server.url}/tfjs/{build.version}/{base}/{file}") as r:
        assert r.status == 200 and r.content_type == kind
        assert r.headers["Cross-Origin-Resource-Policy"] == "same-origin"  # loadable by a require-corp page
        body = await r.read()
    assert body == (build.backend_dist(base) / file).read_bytes()


@pytest.mark.parametrize("path", ["wasm/package.json", "wasm/index.js", "webgpu/tfjs-backend-wasm.wasm", "webgl/tf.min.js",
                                  "wasm/..%2Fpackage.json"])
async def test_backend_routes_serve_only_bundles_and_binaries(server, client, build, path):
    async with client.get(raw(server, f"/tfjs/{build.version}/{path}")) as r:
        assert r.status == 404


async def test_a_version_without_a_wasm_package_has_no_wasm_files(client):
    rc = tfjs.available()["4.23.0-rc.0"]
    srv = await HarnessServer([rc]).start(port=0)
    try:
        async with client.get(f"{srv.url}/tfjs/{rc.version}/wasm/tf-backend-wasm.min.js") as r:
            assert r.status == 404
            assert "no wasm backend file" in await r.text()
    finally:
        await srv.stop()
