"""The detector's shape as data, shared by the PyTorch and Keras models and the decoders."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

STRIDE = 16  # of the output map
PAD_VALUE = 127.0  # letterbox padding, in 0-255: zero after the backbone's normalisation
PRIOR = 0.01  # initial heatmap probability (the head's bias), as in RetinaNet and CenterNet


@dataclass(frozen=True)
class DetectorConfig:
    classes: tuple[str, ...]
    input_size: int = 256  # square input; a picture is letterboxed into it (`decode.letterbox`)
    neck: int = 96  # channels of the fused stride-16 map
    frozen_stages: int = 2  # the stem and this many first backbone stages do not train
    peak_kernel: int = 3  # a peak is the maximum of its k x k neighbourhood
    max_detections: int = 100

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        if not self.classes:
            raise ValueError("a detector needs at least one class")
        if len(set(self.classes)) != len(self.classes):
            raise ValueError("the detector's classes must be distinct")
        if self.input_size % 32:
            raise ValueError(f"input_size {self.input_size} must be a multiple of 32")

    @property
    def grid(self) -> int:
        return self.input_size // STRIDE

    @property
    def channels(self) -> int:
        """Output channels: one heatmap per class, then four box values per class."""
        return 5 * len(self.classes)

    def as_dict(self) -> dict:
        return {**asdict(self), "classes": list(self.classes), "stride": STRIDE}

    @classmethod
    def from_dict(cls, data: dict) -> "DetectorConfig":
        known = {k: data[k] for k in ("classes", "input_size", "neck", "frozen_stages", "peak_kernel",
                                      "max_detections") if k in data}
        return cls(**known)


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the picture's pixels
    class_index: int = field(default=-1, compare=False)

    def as_json(self) -> dict:
        return {"label": self.label, "score": round(self.score, 5), "box": [round(v, 2) for v in self.box]}
