"""Tests for the model server's faults (harness.server.uploads), used by harness/schemes/negative.py:
a file answering an error status, a slot refusing saves, and files served without CORS headers.
A real HarnessServer on 127.0.0.1, driven with aiohttp's client (like tests/test_server.py)."""

from __future__ import annotations

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

ORIGIN = {"Origin": "http://127.0.0.1:1"}  # a page of another origin, as a browser sends it


@pytest_asyncio.fixture
async def client():
    async with aiohttp.ClientSession() as session:
        yield session


def multipart() -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("model.json", b'{"modelTopology": {}}', filename="model.json", content_type="application/json")
    form.add_field("model.weights.bin", b"\x00" * 12, filename="model.weights.bin",
                   content_type="application/octet-stream")
    return form


# --- publish_fault ---


@pytest.mark.parametrize("status, phrase", [(500, b"500 Internal Server Error"), (503, b"503 Service Unavailable")])
async def test_fault_answers_its_status_with_an_error_page(server, client, status, phrase):
    upload = server.open_upload()
    upload.publish({"model.json": b"{}", "w.bin": b"\x01\x02\x03\x04"})
    upload.publish_fault("w.bin", status)
    async with client.get(f"{server.url}/uploads/{upload.token}/w.bin", headers=ORIGIN) as r:
        assert r.status == status
        assert await r.read() == phrase
        assert r.headers["Access-Control-Allow-Origin"] == ORIGIN["Origin"]  # an error a page can read
    async with client.get(f"{server.url}/uploads/{upload.token}/model.json") as r:
        assert r.status == 200 and await r.read() == b"{}"  # the other files are unaffected
    assert [(q["path"].rsplit("/", 1)[1], q["status"]) for q in upload.requests] == [("w.bin", status),
                                                                                   ("model.json", 200)]


async def test_fault_with_own_body_and_for_an_unpublished_file(server, client):
    upload = server.open_upload()
    upload.publish_fault("missing.bin", 404, b"<html>gone</html>")
    async with client.get(f"{server.url}/uploads/{upload.token}/missing.bin") as r:
        assert r.status == 404
        assert await r.read() == b"<html>gone</html>"


@pytest.mark.parametrize("name", ["../x", ".hidden", "a/b", ""])
def test_fault_names_are_plain_file_names(server, name):
    with pytest.raises(web.HTTPBadRequest):
        server.open_upload().publish_fault(name, 500)


# --- refuse_saves ---


async def test_refused_save_is_read_recorded_and_not_stored(server, client):
    upload = server.open_upload()
    upload.refuse_saves(500)
    async with client.post(f"{server.url}/uploads/{upload.token}", data=multipart(), headers=ORIGIN) as r:
        assert r.status == 500
        assert await r.read() == b"500 Internal Server Error"
        assert r.headers["Access-Control-Allow-Origin"] == ORIGIN["Origin"]
    assert upload.parts == {} and upload.files == {}
    (request,) = upload.requests
    assert request["method"] == "POST" and request["status"] == 500
    assert request["parts"] == [{"field": "model.json", "filename": "model.json", "bytes": 21},
                                {"field": "model.weights.bin", "filename": "model.weights.bin", "bytes": 12}]
    async with client.get(f"{server.url}/uploads/{upload.token}/model.json") as r:
        assert r.status == 404  # nothing to load back


async def test_refused_put_of_a_non_multipart_body_counts_its_bytes(server, client):
    upload = server.open_upload()
    upload.refuse_saves(507, b"disk full")
    async with client.put(f"{server.url}/uploads/{upload.token}", data=b"x" * 100) as r:
        assert r.status == 507 and await r.read() == b"disk full"
    assert upload.requests[-1]["bytes"] == 100 and upload.parts == {}


async def test_a_slot_without_faults_still_stores_saves(server, client):
    upload = server.open_upload()
    async with client.post(f"{server.url}/uploads/{upload.token}", data=multipart()) as r:
        assert r.status == 200
    assert sorted(upload.parts) == ["model.json", "model.weights.bin"]
    assert upload.files["model.weights.bin"] == b"\x00" * 12


# --- /nocors/ ---


@pytest.mark.parametrize("base", ["url", "https_url"])
async def test_nocors_serves_the_same_bytes_without_cors_headers(server, client, base):
    upload = server.open_upload()
    upload.publish({"model.json": b'{"a": 1}'})
    root = getattr(server, base)
    async with client.get(f"{root}/nocors/uploads/{upload.token}/model.json", headers=ORIGIN, ssl=False) as r:
        assert r.status == 200 and await r.read() == b'{"a": 1}'
        assert not [h for h in r.headers if h.lower().startswith("access-control-")], dict(r.headers)
    async with client.get(f"{root}/uploads/{upload.token}/model.json", headers=ORIGIN, ssl=False) as r:
        assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == ORIGIN["Origin"]
    assert [q["status"] for q in upload.requests] == [200, 200]


async def test_nocors_faults_and_404s_carry_no_cors_headers(server, client):
    upload = server.open_upload()
    upload.publish_fault("w.bin", 500)
    for name, status in (("w.bin", 500), ("absent.bin", 404)):
        async with client.get(f"{server.url}/nocors/uploads/{upload.token}/{name}", headers=ORIGIN) as r:
            assert r.status == status
            assert "Access-Control-Allow-Origin" not in r.headers


async def test_nocors_has_no_preflight_and_no_save_route(server, client):
    upload = server.open_upload()
    async with client.options(f"{server.url}/nocors/uploads/{upload.token}/model.json",
                              headers={**ORIGIN, "Access-Control-Request-Method": "GET"}) as r:
        assert r.status in (404, 405)
        assert "Access-Control-Allow-Origin" not in r.headers
    async with client.post(f"{server.url}/nocors/uploads/{upload.token}", data=multipart()) as r:
        assert r.status in (404, 405)
    assert upload.parts == {}


# --- require_query (http-query) ---


async def test_a_slot_requiring_a_query_answers_403_without_it_and_records_every_query(server, client):
    upload = server.open_upload()
    upload.publish({"model.json": b'{"a": 1}'})
    upload.require_query.update({"v": "1", "token": "abc"})
    base = f"{server.url}/uploads/{upload.token}/model.json"
    for query, status in (("", 403), ("?v=1", 403), ("?v=1&token=abd", 403), ("?token=abc&v=1", 200)):
        async with client.get(base + query) as r:
            assert r.status == status, query
            if status == 403:
                assert "query parameter" in await r.text()
    assert [(q["query"], q["status"]) for q in upload.requests] == [
        ("", 403), ("v=1", 403), ("v=1&token=abd", 403), ("token=abc&v=1", 200)]
    async with client.post(f"{server.url}/uploads/{upload.token}", data=multipart()) as r:
        assert r.status == 403 and upload.parts == {}  # a save without it stores nothing
