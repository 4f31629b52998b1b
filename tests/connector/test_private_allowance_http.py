"""A source allowed on a private host, over real HTTP: its own host and port work; redirects,
manifests, annotation pages and image links that lead to other private hosts (127.0.0.2
stands in for "another machine on the intranet"), to other ports of the same machine, or to
cloud metadata addresses are refused before anything is sent to them. The connector's
audit hook (tests/support/netaudit.py) fails any test that tries to leave loopback."""

from __future__ import annotations

import pytest

from connector.catalog import Catalog
from connector.harvest import Harvester
from connector.http import FetchError, FetchPolicy
from tests.connector.harvest_fixtures import CTX3, jpeg, manifest_v3, serve_json

FAST = {"rate_limit_per_host": 1000.0}


@pytest.fixture
def hosts(http_server_factory):
    """The source's server, another private host, and another port of the source's machine."""
    try:
        other_host = http_server_factory("127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 is not usable here")
    return http_server_factory("127.0.0.1"), other_host, http_server_factory("127.0.0.1")


def test_redirects_to_other_private_hosts_and_ports_are_refused(hosts, make_client) -> None:
    source, other_host, other_port = hosts
    policy = FetchPolicy.allowing(source.url("/collection.json"))
    source.text("/here", "own host")
    source.redirect("/same-host", "/here")
    other_host.text("/secret", "secret")
    other_port.text("/secret", "secret")
    source.redirect("/to-other-host", other_host.url("/secret"))
    source.redirect("/to-other-port", other_port.url("/secret"))
    client = make_client(**FAST)
    assert client.get(source.url("/same-host"), policy=policy).content == b"own host"
    for path, server in (("/to-other-host", other_host), ("/to-other-port", other_port)):
        with pytest.raises(FetchError) as info:
            client.get(source.url(path), policy=policy)
        assert info.value.kind == "blocked", path
        assert f"redirected to {server.url('/secret')}" in str(info.value)
        assert f"covers only 127.0.0.1:{source.port}" in str(info.value)
    assert other_host.log == [] and other_port.log == []  # not even robots.txt


@pytest.mark.parametrize("location", [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://2852039166/latest/meta-data/",
    "http://0xa9.0xfe.0xa9.0xfe/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://169.254.170.2/v2/credentials/",
])
def test_redirect_to_cloud_metadata_is_refused_without_connecting(location, http_server, make_client) -> None:
    """Even when the allowance names the redirecting host: refused by the guard, so the audit
    hook sees no connection (it would raise OffMachineTraffic, not FetchError)."""
    http_server.redirect("/manifest.json", location)
    policy = FetchPolicy.allowing(http_server.base_url)
    with pytest.raises(FetchError) as info:
        make_client(**FAST).get(http_server.url("/manifest.json"), policy=policy)
    assert info.value.kind == "blocked" and "metadata" in str(info.value)


def test_explicitly_allowed_host_is_reachable(hosts, make_client) -> None:
    source, other_host, other_port = hosts
    other_host.text("/image.jpg", "pixels")
    source.redirect("/image", other_host.url("/image.jpg"))
    policy = FetchPolicy.allowing(source.base_url, f"127.0.0.2:{other_host.port}")
    client = make_client(**FAST)
    assert client.get(source.url("/image"), policy=policy).content == b"pixels"
    other_port.text("/x", "x")
    with pytest.raises(FetchError):
        client.get(other_port.url("/x"), policy=policy)
    assert other_port.log == []


# --- a whole harvest ---------------------------------------------------------------------

@pytest.fixture
def catalog(settings):
    cat = Catalog.open(settings)
    yield cat
    cat.close()


def _serve_mixed_collection(source, other_host, other_port) -> str:
    """A collection on the source whose manifests point at all three servers."""
    base = source.base_url
    serve_json(source, "/collection.json", {
        "@context": CTX3, "id": f"{base}/collection.json", "type": "Collection", "label": {"en": ["Mixed"]},
        "items": [{"id": f"{base}/m/own.json", "type": "Manifest"},
                  {"id": f"{other_host.base_url}/m/elsewhere.json", "type": "Manifest"},
                  {"id": f"{base}/m/links.json", "type": "Manifest"}]})
    serve_json(source, "/m/own.json", manifest_v3(base, "own"))
    source.bytes("/img/own.jpg", jpeg(), content_type="image/jpeg")
    serve_json(other_host, "/m/elsewhere.json", manifest_v3(other_host.base_url, "elsewhere"))
    other_host.bytes("/img/elsewhere.jpg", jpeg(), content_type="image/jpeg")
    links = manifest_v3(base, "links", page_ref=f"{other_port.base_url}/pages/links.json")
    links["items"][0]["items"][0]["items"][0]["body"]["id"] = f"{other_port.base_url}/img/links.jpg"
    serve_json(source, "/m/links.json", links)
    other_port.bytes("/img/links.jpg", jpeg(), content_type="image/jpeg")
    serve_json(other_port, "/pages/links.json", {"@context": CTX3, "id": f"{other_port.base_url}/pages/links.json",
                                                 "type": "AnnotationPage", "items": []})
    return f"{base}/collection.json"


def _harvest(settings, catalog, url, **options):
    src = catalog.add_source(url, "collection", allow_private=True, **options)
    with Harvester(settings.replace(**FAST), catalog) as h:
        return h.harvest(catalog.get_source(src.id))


def test_harvest_reaches_only_the_sources_own_host_and_port(hosts, settings, catalog) -> None:
    source, other_host, other_port = hosts
    report = _harvest(settings, catalog, _serve_mixed_collection(source, other_host, other_port))
    assert report.counts["new"] == 2 and report.counts["failed"] == 1
    assert report.counts["images_fetched"] == 1 and report.counts["images_failed"] == 1
    blocked = [p for p in report.problems if "refused" in p.what]
    assert any("elsewhere.json" in p.where and "127.0.0.2" in p.what for p in blocked)
    assert any("links.jpg" in p.where for p in blocked) and any("pages/links.json" in p.where for p in blocked)
    assert other_host.log == [] and other_port.log == []


def test_allow_host_extends_the_allowance_to_the_named_host_only(hosts, settings, catalog) -> None:
    source, other_host, other_port = hosts
    url = _serve_mixed_collection(source, other_host, other_port)
    report = _harvest(settings, catalog, url, allowed_hosts=[f"127.0.0.2:{other_host.port}"])
    assert report.counts["new"] == 3 and report.counts["images_fetched"] == 2, report.problems
    assert other_host.requests_for("/img/elsewhere.jpg")
    assert other_port.log == []
