"""Channels-last training: the pixel-reading strided 1x1 convolution that crashes oneDNN's
backward in channels-last computes unstrided on every other pixel instead; gradients and
losses are those of NCHW. Run in a child process,
so that a crash (heap corruption) fails the test instead of killing pytest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.deps import need

ROOT = Path(__file__).resolve().parents[3]


def test_channels_last_trains_as_nchw_without_crashing() -> None:
    need("open_clip")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("channels_last_check.py"))], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-3000:]}"
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["channels_last_convs"] == 4 and out["pixel_convs_channels_last"] and out["depthwise_channels_last"]
    assert out["strided_pointwise_unstrided"] and out["dilated_nchw"] and out["again_changes_nothing"]
    assert out["grad_max_diff"] <= 1e-4 * max(1.0, out["grad_max"])
    cl, nchw = out["losses_channels_last"], out["losses_nchw"]
    assert len(cl) == len(nchw) == 4 and len(set(cl)) > 1  # it trains: the losses move
    assert max(abs(a - b) for a, b in zip(cl, nchw)) < 1e-4
