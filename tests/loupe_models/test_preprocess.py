"""FastPreprocess reproduces open_clip's transform: exactly without reduced decoding, and
with it, the same geometry and nearly the same pixels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.support.deps import need

need("open_clip")

from loupe_models.images import open_image  # noqa: E402
from loupe_models.preprocess import FastPreprocess  # noqa: E402


@pytest.fixture(scope="module", params=[(64, "bicubic", (0.48, 0.45, 0.4), (0.27, 0.26, 0.28)),
                                        (256, "bilinear", (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))],
                ids=["tiny-bicubic", "mobileclip-bilinear"])
def transform(request):
    from open_clip.transform import PreprocessCfg, image_transform_v2

    size, interpolation, mean, std = request.param
    return image_transform_v2(PreprocessCfg(size=size, mean=mean, std=std, interpolation=interpolation),
                              is_train=False)


def test_split_transform_equals_the_whole_one(transform, pictures) -> None:
    import torch

    fast = FastPreprocess(transform)
    assert fast.pil_stage is not None and fast.resize is not None
    images = pictures + [pictures[2].convert("L"), pictures[4].convert("RGBA")]
    expected = torch.stack([transform(im) for im in images])
    got = fast.batch([fast.map(im) for im in images])
    assert torch.equal(got, expected)


def test_reduced_decoding_keeps_geometry_and_pixels_close(transform) -> None:
    import torch

    rng = np.random.default_rng(3)
    small = rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(small).resize((1777, 1185), Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=92)
    data = buffer.getvalue()

    fast = FastPreprocess(transform)
    reduced = open_image(data, fast.draft_request)
    assert reduced.size[0] < 1777  # decoded at reduced scale
    got = fast.batch([fast.map(reduced)])[0]
    expected = transform(Image.open(io.BytesIO(data)))
    assert got.shape == expected.shape
    std = torch.as_tensor(fast.std).view(-1, 1, 1)
    assert torch.mean(torch.abs(got - expected) * std).item() < 1.5 / 255  # about a grey level
    assert torch.nn.functional.cosine_similarity(got.flatten(), expected.flatten(), dim=0) > 0.999


def test_unknown_transform_shapes_run_whole(pictures) -> None:
    import torch
    from torchvision.transforms import CenterCrop, Compose, ToTensor

    odd = Compose([CenterCrop(32), ToTensor()])
    fast = FastPreprocess(odd)
    assert fast.pil_stage is None
    assert torch.equal(fast.batch([fast.map(pictures[0])]), odd(pictures[0]).unsqueeze(0))
