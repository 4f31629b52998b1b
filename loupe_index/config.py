"""The requests that create Loupe's collections on a Qdrant server, built as plain objects so
tests can inspect them without a server.

Local mode gets only the vector parameters: it is an exact search with no graph, quantization
or payload indexes to configure.
"""

from __future__ import annotations

from typing import Any, Mapping

from qdrant_client import models

from loupe_core.settings import Settings

DISTANCE = models.Distance.COSINE
# Payload fields that filters and deletes use, with their index types.
KEYWORD_INDEXES = ("source", "collection", "manifest", "canvas", "kind", "rights", "content_key")
INTEGER_INDEXES = ("source_id", "year")


def vectors_config(vectors: Mapping[str, int]) -> dict[str, models.VectorParams]:
    return {name: models.VectorParams(size=int(dim), distance=DISTANCE) for name, dim in vectors.items()}


def collection_config(settings: Settings, vectors: Mapping[str, int]) -> dict[str, Any]:
    """Keyword arguments for ``QdrantClient.create_collection`` on a server: cosine vectors,
    an HNSW graph, int8 scalar quantization kept in RAM (rescored at query time, see
    ``search_params``), payload on disk if configured, shards and replicas."""
    return {
        "vectors_config": vectors_config(vectors),
        "hnsw_config": models.HnswConfigDiff(m=settings.hnsw_m, ef_construct=settings.hnsw_ef_construct),
        "quantization_config": models.ScalarQuantization(
            scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8, quantile=0.99, always_ram=True)),
        "on_disk_payload": settings.qdrant_on_disk_payload,
        "shard_number": settings.qdrant_shards,
        "replication_factor": settings.qdrant_replicas,
    }


def payload_indexes() -> list[tuple[str, models.PayloadSchemaType]]:
    """``(field, schema)`` pairs for ``create_payload_index`` on a server."""
    return ([(f, models.PayloadSchemaType.KEYWORD) for f in KEYWORD_INDEXES]
            + [(f, models.PayloadSchemaType.INTEGER) for f in INTEGER_INDEXES])


def search_params(settings: Settings) -> models.SearchParams:
    """Query-time parameters on a server: the HNSW beam, and rescoring of the quantized
    candidates with the original vectors (oversampled so rescoring can change the order)."""
    return models.SearchParams(
        hnsw_ef=settings.hnsw_ef_search,
        quantization=models.QuantizationSearchParams(
            ignore=False, rescore=True, oversampling=settings.quantization_oversampling),
    )
