"""Machine-dependent choices: torch threads, device and arithmetic precision."""

from __future__ import annotations

import ctypes
import ctypes.util
import os

from loupe_core.settings import Settings, SettingsError

PRECISIONS = ("auto", "fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda")


def available_cores() -> int:
    """Cores this process may run on (respects CPU affinity, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def torch_threads(settings: Settings) -> int:
    return settings.torch_threads if settings.torch_threads > 0 else available_cores()


def batch_size(settings: Settings, device: str) -> int:
    """Measured on 2 CPU cores: per-image time is lowest around 8 for both MobileCLIP2-S0 and
    ViT-B-32 (larger batches only add memory traffic); GPUs want many more."""
    if settings.embed_batch_size > 0:
        return settings.embed_batch_size
    return 64 if device == "cuda" else 8


def decode_workers(settings: Settings) -> int:
    return settings.embed_workers if settings.embed_workers > 0 else available_cores()


def configure_torch(settings: Settings) -> None:
    """Set torch's intra-op threads for this process (a process-wide torch setting; setting it
    again to the same number costs nothing, so every model load may call this)."""
    import torch

    n = torch_threads(settings)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


# glibc mallopt parameters (malloc.h) and the defaults they are set back to.
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_DEFAULT_MMAP_MAX, _DEFAULT_TRIM = 65536, 128 * 1024 * 1024


def retain_freed_memory(retain: bool = True) -> bool:
    """Training on CPU frees and allocates the same large activation buffers at every step.
    glibc maps each buffer above its mmap threshold (at most 32 MB) afresh and gives it back
    when freed, so every step page-faults and zeroes gigabytes again (measured with
    MobileCLIP2-S0, batch 32: 0.8 s of system time a step, 0.08 s with this). ``retain``:
    large blocks come from the heap and stay with the process to be reused (process-wide; peak
    memory about 10% higher). ``retain=False``: large blocks mapped again, and the free heap
    given back to the system. Returns False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt, trim = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return False
    if retain:
        return bool(mallopt(_M_MMAP_MAX, 0) and mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
    ok = bool(mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX) and mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM))
    trim(0)
    return ok


def choose_device(settings: Settings) -> str:
    import torch

    choice = settings.model_device.strip().lower()
    if choice not in DEVICES:
        raise SettingsError(f"setting 'model_device' = {settings.model_device!r}: use one of {', '.join(DEVICES)}")
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise SettingsError("setting 'model_device' = 'cuda', but torch sees no CUDA device here")
    return choice


def choose_precision(settings: Settings, device: str) -> str:
    """``auto`` means bf16 where the hardware computes it natively, where it is about twice as
    fast as fp32 for these models on CPU; fp32 elsewhere, where bf16 would be emulated and slow."""
    choice = settings.model_precision.strip().lower()
    if choice not in PRECISIONS:
        raise SettingsError(f"setting 'model_precision' = {settings.model_precision!r}: use one of {', '.join(PRECISIONS)}")
    if choice != "auto":
        return choice
    return "bf16" if native_bf16(device) else "fp32"


def native_bf16(device: str) -> bool:
    import torch

    if device == "cuda":
        return torch.cuda.is_bf16_supported()
    cpu = torch.cpu
    return bool(getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
                or getattr(cpu, "_is_amx_tile_supported", lambda: False)())


def torch_dtype(precision: str) -> "torch.dtype":  # noqa: F821 - torch is imported lazily
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16}[precision]
