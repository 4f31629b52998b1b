"""Fine-tuning throughput: Loupe's CLIP trainer against a plain open_clip training loop, and
the Combiner's seconds per epoch on precomputed features.

Both CLIP runs start from the same random weights (speed does not depend on them), take the
same batches of the same region-caption pairs (crops of the lens artworks, one caption each)
in the same order, and freeze the same tower:

* plain loop: what open_clip's training script does each step: the transform on each PIL
  crop, the tokenizer on the captions, both towers forward (the frozen one without
  gradients), ``open_clip.loss.ClipLoss``, AdamW;
* pipeline: ``ClipTrainer``: crops preprocessed and captions tokenised once, the frozen
  tower's features computed once (in batches, in bf16 where the CPU computes it natively, as
  the index's are: the setting ``model_precision``) and reused, only distinct rows encoded,
  the image tower in channels-last format, one fused AdamW kernel (its one-time preparation
  counts in its time).

Warm-up, fairly: the first steps of a process are slow (oneDNN creates and caches its kernels
for each shape and memory format: about 30 s for MobileCLIP2-S0 on 2 cores). Before each
timed run, one untimed step of that same run (its own memory format, batch size and tower
path) trains a throwaway copy of its module, so neither run pays for the cache nor profits
from the other's. The default epochs are those of ``loupe finetune`` (a frozen tower's
features are computed once and reused from the second epoch on: that is what a curator runs).

The two runs take turns, step by step (the trainer's step i, then the plain loop's), each
step timed on its own: a machine shared with other work slows both alike. Both run with the
allocator keeping freed memory for the next step (``retain_freed_memory``): a process-wide
setting, it helps both alike.

Losses per step are compared: the same computation must reach the same loss (to about 1e-3
with bf16 frozen features; to 1e-5 with ``model_precision = fp32``).
"""

from __future__ import annotations

import copy
import csv
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from loupe_core.settings import Settings
from loupe_models import Weights, get_spec
from loupe_models.hardware import choose_precision, configure_torch, retain_freed_memory, torch_threads
from loupe_models.loading import create_open_clip_model, register_project_configs
from loupe_models.training.clip_trainer import ClipTrainer, Pair, TrainConfig
from loupe_models.training.combiner import CombinerConfig, CombinerTrainer, tensors
from loupe_models.training.contrastive import adamw, configure_trainable, frozen_modules

LENS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "lens"


def region_pairs(n: int, seed: int = 0) -> list[Pair]:
    """``n`` crops of the lens artworks (generated images when absent), each with its own caption."""
    rng = random.Random(seed)
    titles = {}
    if (LENS / "artworks.csv").is_file():
        with open(LENS / "artworks.csv", newline="", encoding="utf-8") as f:
            titles = {r["slug"]: f"{r['title']} by {r['artist']}" for r in csv.DictReader(f)}
    files = sorted((LENS / "artworks").glob("*.jpg"))[:40]
    pictures = []
    for path in files:
        with Image.open(path) as im:
            im.draft("RGB", (512, 512))
            pictures.append((im.convert("RGB"), titles.get(path.stem, path.stem)))
    if not pictures:
        data = np.random.default_rng(seed).integers(0, 255, (8, 384, 384, 3), dtype=np.uint8)
        pictures = [(Image.fromarray(a), f"generated image {i}") for i, a in enumerate(data)]
    pairs = []
    for i in range(n):
        picture, title = pictures[i % len(pictures)]
        w, h = picture.size
        cw, ch = rng.randint(w // 4, w // 2), rng.randint(h // 4, h // 2)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        pairs.append(Pair(picture.crop((x, y, x + cw, y + ch)), f"detail {i} of {title}"))
    return pairs


def warm_up_pipeline(module, preprocess, tokenizer, pairs: list[Pair], config: TrainConfig) -> float:  # noqa: ANN001
    """One untimed preparation and step of the trainer on a throwaway copy of ``module``."""
    start = time.perf_counter()
    trainer = ClipTrainer(copy.deepcopy(module), preprocess, tokenizer, config)
    trainer.prepare(pairs[:config.batch_size])
    trainer.step(trainer.epoch_batches(0)[0])
    return time.perf_counter() - start


def warm_up_plain(module, preprocess, tokenizer, pairs: list[Pair], batch, config: TrainConfig) -> float:  # noqa: ANN001
    """One untimed step of the plain loop on a throwaway copy of ``module``."""
    start = time.perf_counter()
    PlainLoop(copy.deepcopy(module), preprocess, tokenizer, pairs, config).step(batch)
    return time.perf_counter() - start


class PlainLoop:
    """What open_clip's training script does at each step, on the same pairs."""

    def __init__(self, module, preprocess, tokenizer, pairs: list[Pair], config: TrainConfig) -> None:  # noqa: ANN001
        import open_clip

        configure_trainable(module, freeze=config.freeze, train_last=config.train_last)
        self.optimizer = adamw(module, config.learning_rate, config.weight_decay)
        self.loss_fn = open_clip.loss.ClipLoss()
        self.module, self.preprocess, self.tokenizer, self.pairs = module, preprocess, tokenizer, pairs

    def step(self, batch) -> float:  # noqa: ANN001
        import torch

        self.module.train()
        for m in frozen_modules(self.module):
            m.eval()
        chosen = [self.pairs[i] for i in batch.tolist()]
        images = torch.stack([self.preprocess(p.image) for p in chosen])
        texts = self.tokenizer([p.caption for p in chosen])
        image_features, text_features, logit_scale = self.module(images, texts)[:3]
        loss = self.loss_fn(image_features, text_features, logit_scale)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())


def run(settings: Settings, model_name: str, n_pairs: int, epochs: int, batch_size: int, freeze: str,
        train_last: int, triplets: int, progress: bool = True) -> dict[str, Any]:
    import open_clip
    import torch

    configure_torch(settings)
    spec = get_spec(model_name)
    pairs = region_pairs(n_pairs)
    config = TrainConfig(freeze=freeze, train_last=train_last, learning_rate=1e-5, epochs=epochs,
                         batch_size=batch_size, frozen_precision=choose_precision(settings, "cpu"))
    parts = create_open_clip_model(spec, Weights.random(0))
    register_project_configs()
    tokenizer = open_clip.get_tokenizer(spec.architecture)
    plain_module = copy.deepcopy(parts.module)

    pipeline_warm_s = warm_up_pipeline(parts.module, parts.preprocess, tokenizer, pairs, config)
    start = time.perf_counter()
    trainer = ClipTrainer(parts.module, parts.preprocess, tokenizer, config)
    trainer.prepare(pairs)
    prepare_s = pipeline_s = time.perf_counter() - start
    batches = [b for e in range(epochs) for b in trainer.epoch_batches(e)]
    plain_warm_s = warm_up_plain(plain_module, parts.preprocess, tokenizer, pairs, batches[0], config)
    plain = PlainLoop(plain_module, parts.preprocess, tokenizer, pairs, config)
    pipe_losses, plain_losses, plain_s = [], [], 0.0
    retain_freed_memory()  # process-wide, for both loops alike
    for batch in tqdm(batches, desc="trainer and plain loop, in turn", unit="step", disable=not progress):
        start = time.perf_counter()
        pipe_losses.append(trainer.step(batch))
        middle = time.perf_counter()
        plain_losses.append(plain.step(batch))
        pipeline_s += middle - start
        plain_s += time.perf_counter() - middle
    retain_freed_memory(False)
    steps = len(batches)

    combiner = CombinerTrainer(spec.dim, CombinerConfig(batch_size=128, epochs=1))
    rng = np.random.default_rng(0)
    feats = [rng.standard_normal((triplets, spec.dim)).astype(np.float32) for _ in range(3)]
    feats = [f / np.linalg.norm(f, axis=1, keepdims=True) for f in feats]
    ref, txt, tgt = tensors(*feats)
    start = time.perf_counter()
    for batch in combiner.epoch_batches(triplets, 0):
        idx = torch.from_numpy(batch)
        combiner.step(ref[idx], txt[idx], tgt[idx])
    combiner_s = time.perf_counter() - start

    pipeline_per_s = n_pairs * epochs / pipeline_s
    plain_per_s = n_pairs * epochs / plain_s
    return {
        "model": spec.name, "weights": "random", "pairs": n_pairs, "epochs": epochs, "batch_size": batch_size,
        "steps": steps, "freeze": freeze, "train_last": train_last, "threads": torch_threads(settings),
        "frozen_precision": config.frozen_precision,
        "pipeline_s_per_epoch": round(pipeline_s / epochs, 2), "pipeline_prepare_s": round(prepare_s, 2),
        "plain_s_per_epoch": round(plain_s / epochs, 2),
        "pipeline_pairs_per_s": round(pipeline_per_s, 2), "plain_pairs_per_s": round(plain_per_s, 2),
        "loss_pipeline_last": round(pipe_losses[-1], 5), "loss_plain_last": round(plain_losses[-1], 5),
        "loss_max_abs_diff": round(float(np.max(np.abs(np.array(pipe_losses) - np.array(plain_losses)))), 6),
        "combiner_triplets": triplets, "combiner_s_per_epoch": round(combiner_s, 3),
        "combiner_triplets_per_s": round(triplets / combiner_s, 1),
        "pipeline_warm_up_s": round(pipeline_warm_s, 2), "plain_warm_up_s": round(plain_warm_s, 2),
        "speedup": round(pipeline_per_s / plain_per_s, 2),
    }
