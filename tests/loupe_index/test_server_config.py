"""What Loupe would send to a Qdrant server, inspected without one: collection creation
(HNSW, int8 quantization in RAM, payload on disk, shards), payload indexes on every filter
field, and query parameters that rescore quantized candidates."""

from __future__ import annotations

import inspect
from unittest import mock

import numpy as np
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http import models as rest

from loupe_index import SearchFilters, VectorIndex, VectorIndexError
from loupe_index.config import collection_config, payload_indexes, search_params
from loupe_index.filters import KEYWORD_FILTERS
from loupe_index.qdrant_store import QdrantStore


@pytest.fixture
def server_settings(settings):
    return settings.replace(qdrant_url="http://qdrant.invalid:6333", hnsw_m=32, hnsw_ef_construct=200,
                            hnsw_ef_search=96, quantization_oversampling=3.0, qdrant_on_disk_payload=False,
                            qdrant_shards=4, qdrant_replicas=2)


def test_collection_config(server_settings):
    kwargs = collection_config(server_settings, {"mobileclip2-s0__dfndr2b": 512})
    inspect.signature(QdrantClient.create_collection).bind(None, "loupe__x", **kwargs)  # the client accepts them
    vp = kwargs["vectors_config"]["mobileclip2-s0__dfndr2b"]
    assert (vp.size, vp.distance) == (512, models.Distance.COSINE)
    assert (kwargs["hnsw_config"].m, kwargs["hnsw_config"].ef_construct) == (32, 200)
    scalar = kwargs["quantization_config"].scalar
    assert scalar.type == models.ScalarType.INT8 and scalar.always_ram is True
    assert kwargs["on_disk_payload"] is False
    assert (kwargs["shard_number"], kwargs["replication_factor"]) == (4, 2)


def test_every_filter_field_gets_a_payload_index():
    indexes = dict(payload_indexes())
    for name in ("source", *KEYWORD_FILTERS, "content_key"):
        assert indexes[name] == models.PayloadSchemaType.KEYWORD
    assert indexes["year"] == indexes["source_id"] == models.PayloadSchemaType.INTEGER


def test_search_params_rescore_quantized_candidates(server_settings):
    params = search_params(server_settings)
    assert params.hnsw_ef == 96
    assert params.quantization.rescore is True and params.quantization.oversampling == 3.0
    assert params.quantization.ignore is False


def fake_server_index(server_settings) -> tuple[VectorIndex, mock.MagicMock]:
    client = mock.MagicMock(spec=QdrantClient)
    client.collection_exists.return_value = False
    client.get_aliases.return_value = models.CollectionsAliasesResponse(aliases=[])
    client.query_points.return_value = rest.QueryResponse(points=[])
    client.query_points_groups.return_value = rest.GroupsResult(groups=[])
    store = QdrantStore(client, server_settings, mode="server", location=server_settings.qdrant_url)
    return VectorIndex(store, server_settings), client


def test_server_mode_creates_collections_indexes_and_the_alias(server_settings):
    index, client = fake_server_index(server_settings)
    assert index.ensure_vector("mobileclip2-s0__dfndr2b", 512)
    (name,), kwargs = client.create_collection.call_args
    assert name == "loupe__mobileclip2-s0__dfndr2b"
    assert kwargs == collection_config(server_settings, {"mobileclip2-s0__dfndr2b": 512})
    created = {(c.args[0], c.args[1], c.kwargs["field_schema"]) for c in client.create_payload_index.call_args_list}
    assert created == {("loupe__mobileclip2-s0__dfndr2b", f, s) for f, s in payload_indexes()}
    ops = client.update_collection_aliases.call_args.kwargs["change_aliases_operations"]
    assert [op.create_alias.model_dump() for op in ops] == [
        {"collection_name": "loupe__mobileclip2-s0__dfndr2b", "alias_name": "loupe"}]


def test_server_mode_searches_with_quantization_rescoring_and_filters(server_settings):
    index, client = fake_server_index(server_settings)
    index.ensure_vector("m__w", 4)
    index.search(np.ones(4), "m__w", limit=10, filters=SearchFilters(kind="region", year_from=1600))
    kwargs = client.query_points.call_args.kwargs
    assert kwargs["search_params"] == search_params(server_settings)
    assert kwargs["using"] == "m__w" and kwargs["limit"] == 11 and kwargs["offset"] == 0
    must = kwargs["query_filter"].must
    assert must[0].key == "kind" and must[0].match.any == ["region"]
    assert must[1].key == "year" and must[1].range.gte == 1600
    index.search(np.ones(4), "m__w", limit=10, one_per_canvas=True)
    kwargs = client.query_points_groups.call_args.kwargs
    assert kwargs["group_by"] == "canvas" and kwargs["group_size"] == 1 and kwargs["limit"] == 11
    assert kwargs["search_params"] == search_params(server_settings)


def test_server_mode_never_uses_the_local_mirror(server_settings):
    with pytest.raises(ValueError, match="local mode only"):
        QdrantStore(mock.MagicMock(), server_settings, mode="server", location="x", exact_search=True)


def test_an_unreachable_server_is_reported_with_what_to_check(settings):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(VectorIndexError, match=f"cannot reach the Qdrant server at http://127.0.0.1:{port}.*LOUPE_QDRANT_URL"):
        VectorIndex.open(settings.replace(qdrant_url=f"http://127.0.0.1:{port}", qdrant_timeout_s=2))
