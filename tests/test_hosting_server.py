"""Tests for the hosting profiles' routes (harness.server.hosting): each profile's answer as a client sees
it, and every route's bad inputs (unknown slots, path traversal, bad signatures, Firebase paths). A real
HarnessServer on 127.0.0.1, driven with aiohttp's client (like tests/test_negative_server.py)."""

from __future__ import annotations

import datetime
import gzip
import time

import aiohttp
import brotli
import pytest
import pytest_asyncio

from harness.server.hosting import COOKIE, Rule

ORIGIN = {"Origin": "http://127.0.0.1:1"}  # a page of another origin, as a browser sends it
FILES = {"model.json": b'{"weightsManifest": []}', "w.bin": bytes(range(256)) * 512}  # 128 KiB of weights


@pytest_asyncio.fixture
async def client():
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


def url(server, slot, name="w.bin", query=""):
    return f"{server.cdn_url}{slot.path(name)}{'?' + query if query else ''}"


async def test_the_cdn_is_another_origin_of_the_pages_site_and_loopback(server):
    assert server.cdn_url.startswith("http://127.0.0.1:") and server.cdn_url != server.url


async def test_a_plain_slot_serves_its_files_with_cors_and_records_every_request(server, client):
    slot = server.hosting.open(FILES)
    async with client.get(url(server, slot), headers=ORIGIN) as r:
        assert r.status == 200 and await r.read() == FILES["w.bin"]
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert r.headers["Content-Length"] == str(len(FILES["w.bin"]))
    assert [(q["method"], q["status"], q["origin"]) for q in slot.requests] == [("GET", 200, ORIGIN["Origin"])]


@pytest.mark.parametrize("path", ["/hosted/nosuchslot/f/w.bin", "/hosted/nosuchslot/at/w.bin", "/hosted/nosuchslot/sign-in"])
async def test_an_unknown_slot_is_404(server, client, path):
    async with client.get(server.cdn_url + path) as r:
        assert r.status == 404


@pytest.mark.parametrize("name", ["..%2F..%2Fpyproject.toml", ".hidden", "a%00b", "%2E%2E"])
async def test_a_file_name_that_is_not_one_plain_name_is_refused(server, client, name):
    slot = server.hosting.open(FILES)
    async with client.get(f"{server.cdn_url}/hosted/{slot.token}/f/{name}") as r:
        assert r.status in (400, 404, 405)  # ".." is resolved away by the router: no GET route is left
        assert b"[project]" not in await r.read()


async def test_a_missing_file_is_404_and_a_post_is_not_allowed(server, client):
    slot = server.hosting.open(FILES)
    async with client.get(url(server, slot, "other.bin")) as r:
        assert r.status == 404
    async with client.post(url(server, slot), data=b"x" * 1000) as r:
        assert r.status == 405  # nothing is ever uploaded to a host


@pytest.mark.parametrize("code", [301, 302, 307, 308])
@pytest.mark.parametrize("where", ["same", "cross"])
async def test_a_redirect_leads_to_the_same_file_on_its_origin(server, client, code, where):
    slot = server.hosting.open(FILES, cross_url=server.cross_site_url)
    slot.rules["w.bin"] = Rule(redirect=(code, where))
    async with client.get(url(server, slot), allow_redirects=False) as r:
        assert r.status == code
        location = r.headers["Location"]
    base = server.cross_site_url if where == "cross" else ""
    assert location == f"{base}/hosted/{slot.token}/at/w.bin"
    async with client.get(url(server, slot), headers=ORIGIN) as r:  # followed
        assert r.status == 200 and await r.read() == FILES["w.bin"]
        assert r.headers["Access-Control-Allow-Origin"] == "*"


async def test_a_signed_slot_serves_a_file_only_with_its_own_unexpired_signature(server, client):
    slot = server.hosting.open(FILES, signed=True)
    async with client.get(url(server, slot, query=slot.sign("w.bin"))) as r:
        assert r.status == 200 and await r.read() == FILES["w.bin"]
    async with client.get(url(server, slot, query=slot.sign("model.json"))) as r:  # another file's signature
        assert r.status == 403 and b"SignatureDoesNotMatch" in await r.read()
    async with client.get(url(server, slot)) as r:  # none
        assert r.status == 403
    an_hour_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    async with client.get(url(server, slot, query=slot.sign("w.bin", expires_s=60, issued=an_hour_ago))) as r:
        assert r.status == 403 and b"Request has expired" in await r.read()
    tampered = slot.sign("w.bin", expires_s=60, issued=an_hour_ago).replace("X-Amz-Expires=60", "X-Amz-Expires=86400")
    async with client.get(url(server, slot, query=tampered)) as r:
        assert r.status == 403 and b"SignatureDoesNotMatch" in await r.read()


@pytest.mark.parametrize("query", ["X-Amz-Signature=%C3%A9", "X-Amz-Date=notadate&X-Amz-Expires=x&X-Amz-Signature=00"])
async def test_a_garbled_signature_is_403_not_a_server_error(server, client, query):
    slot = server.hosting.open(FILES, signed=True)
    async with client.get(url(server, slot, query=query)) as r:
        assert r.status == 403


async def test_firebase_needs_the_encoded_object_path_and_the_files_own_token(server, client):
    slot = server.hosting.open(FILES)
    good = f"{server.cdn_url}{slot.firebase_path('w.bin')}?{slot.firebase_query('w.bin')}"
    assert "%2F" in good
    async with client.get(good) as r:
        assert r.status == 200 and await r.read() == FILES["w.bin"]
    model_token = slot.firebase_query("model.json")
    async with client.get(f"{server.cdn_url}{slot.firebase_path('w.bin')}?{model_token}") as r:  # model.json's token
        assert r.status == 403
    async with client.get(f"{server.cdn_url}{slot.firebase_path('w.bin')}?token=x") as r:  # no alt=media
        assert r.status == 403
    unencoded = good.replace("%2F", "/")
    async with client.get(unencoded) as r:  # the path's slashes not encoded: not the object
        assert r.status == 404
    beside = f"{server.cdn_url}/v0/b/harness-models.appspot.com/o/w.bin?{slot.firebase_query('w.bin')}"
    async with client.get(beside) as r:  # where TF.js resolves a shard of the download URL
        assert r.status == 404 and b'"Not Found."' in await r.read()
    async with client.get(f"{server.cdn_url}/v0/b/another-bucket/o/{slot.firebase_path('w.bin').rsplit('/', 1)[1]}") as r:
        assert r.status == 404
    traversal = f"{server.cdn_url}/v0/b/harness-models.appspot.com/o/models%2F{slot.token}%2F..%2F..%2Fpyproject.toml"
    async with client.get(traversal) as r:
        assert r.status == 404


@pytest.mark.parametrize("offered, sent", [("gzip, deflate, br", "br"), ("gzip, deflate", "gzip")])
async def test_compressed_files_go_chunked_without_content_length_in_the_encoding_offered(server, client, offered, sent):
    slot = server.hosting.open(FILES)
    slot.rules["w.bin"] = Rule(encoding="negotiate")
    async with client.get(url(server, slot), headers={"Accept-Encoding": offered}) as r:
        body = await r.read()
        assert r.headers["Content-Encoding"] == sent and "Content-Length" not in r.headers
        assert r.headers["Transfer-Encoding"] == "chunked"
    assert (brotli.decompress(body) if sent == "br" else gzip.decompress(body)) == FILES["w.bin"]


async def test_a_content_type_rule_serves_the_same_bytes_as_another_type(server, client):
    slot = server.hosting.open(FILES)
    slot.rules["w.bin"] = Rule(serve_as="text/html; charset=utf-8")
    async with client.get(url(server, slot)) as r:
        assert r.headers["Content-Type"] == "text/html; charset=utf-8" and await r.read() == FILES["w.bin"]


async def test_a_file_without_cors_has_no_access_control_header(server, client):
    slot = server.hosting.open(FILES)
    slot.rules["w.bin"] = Rule(cors=False)
    async with client.get(url(server, slot), headers=ORIGIN) as r:
        assert r.status == 200 and "Access-Control-Allow-Origin" not in r.headers
    async with client.get(url(server, slot, "model.json"), headers=ORIGIN) as r:
        assert r.headers["Access-Control-Allow-Origin"] == "*"


async def test_credentials_need_the_signed_in_cookie_and_the_header_and_answer_the_origin(server, client):
    slot = server.hosting.open(FILES, require_header=("X-Harness-Key", "k"), allow_headers=("X-Harness-Key",))
    async with client.get(f"{server.cdn_url}/hosted/{slot.token}/sign-in", headers=ORIGIN) as r:
        assert r.status == 204
        cookie = r.cookies[COOKIE]
        assert cookie["path"] == f"/hosted/{slot.token}/" and cookie["httponly"] and cookie["samesite"] == "Lax"
    async with client.options(url(server, slot), headers={**ORIGIN, "Access-Control-Request-Headers": "x-harness-key"}) as r:
        assert r.status == 204 and r.headers["Access-Control-Allow-Headers"] == "X-Harness-Key"
        assert r.headers["Access-Control-Allow-Credentials"] == "true"
        assert r.headers["Access-Control-Allow-Origin"] == ORIGIN["Origin"]
    async with client.get(url(server, slot), headers={**ORIGIN, "X-Harness-Key": "k"}) as r:  # no cookie
        assert r.status == 401
    jar = {COOKIE: cookie.value}
    async with client.get(url(server, slot), headers={**ORIGIN, "X-Harness-Key": "wrong"}, cookies=jar) as r:
        assert r.status == 401
    async with client.get(url(server, slot), headers={**ORIGIN, "X-Harness-Key": "k"}, cookies=jar) as r:
        assert r.status == 200 and await r.read() == FILES["w.bin"]
        assert r.headers["Access-Control-Allow-Origin"] == ORIGIN["Origin"] and r.headers["Vary"] == "Origin"


async def test_a_rate_limit_answers_its_status_with_retry_after_for_its_count_then_the_file(server, client):
    slot = server.hosting.open(FILES)
    slot.rules["w.bin"] = Rule(status=429, body=b"slow down", times=1, headers={"Retry-After": "1"})
    async with client.get(url(server, slot)) as r:
        assert r.status == 429 and r.headers["Retry-After"] == "1" and await r.read() == b"slow down"
    async with client.get(url(server, slot)) as r:
        assert r.status == 200 and await r.read() == FILES["w.bin"]
    slot.reset_counts()
    async with client.get(url(server, slot)) as r:
        assert r.status == 429


async def test_a_throttled_file_takes_its_size_over_the_rate(server, client):
    slot = server.hosting.open(FILES)
    slot.rules["w.bin"] = Rule(rate=len(FILES["w.bin"]) * 2)  # half a second's worth
    started = time.monotonic()
    async with client.get(url(server, slot)) as r:
        assert await r.read() == FILES["w.bin"]
    assert time.monotonic() - started >= 0.4
    assert slot.requests[-1]["send_s"] >= 0.4


async def test_a_truncated_file_announces_its_length_and_closes_early(server, client):
    slot = server.hosting.open(FILES)
    slot.rules["w.bin"] = Rule(truncate_at=1000)
    with pytest.raises(aiohttp.ClientPayloadError):
        async with client.get(url(server, slot)) as r:
            assert r.headers["Content-Length"] == str(len(FILES["w.bin"]))
            await r.read()
    assert slot.requests[-1]["bytes_sent"] == 1000


async def test_an_offline_slot_closes_connections_unanswered(server, client):
    slot = server.hosting.open(FILES)
    slot.offline = True
    with pytest.raises(aiohttp.ClientError):
        async with client.get(url(server, slot)) as r:
            await r.read()
    slot.offline = False
    async with client.get(url(server, slot)) as r:
        assert r.status == 200


async def test_the_service_worker_is_served_from_the_root(server, client):
    async with client.get(f"{server.url}/hosting-sw.js") as r:
        assert r.status == 200 and r.content_type == "text/javascript"
        assert "caches.open" in await r.text()


async def test_a_closed_slot_is_gone(server, client):
    slot = server.hosting.open(FILES)
    server.hosting.close(slot.token)
    async with client.get(url(server, slot)) as r:
        assert r.status == 404
