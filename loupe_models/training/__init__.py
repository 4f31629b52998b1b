"""Training CLIP and the Combiner, and what training leaves behind.

- ``checkpoints``: fine-tuned checkpoints versioned under ``<data_dir>/models/finetuned``
  (``NAME@vN`` names one wherever a model is chosen); no torch.
- ``contrastive``: the symmetric contrastive loss and which parameters train (torch).
- ``clip_trainer``: image-caption pairs to tensors, the training step, resumable state (torch).
- ``combiner``: CLIP4Cir's Combiner, its training on feature triplets, and its files (torch to train).
- ``triplets``: (reference, text, target) triplets read from CIRR, FashionIQ or CSV files.
- ``metrics`` and ``evaluations``: Recall@k and mAP; results stored per model version (numpy).

Importing this package imports nothing heavy; the torch modules load when a job runs.
"""
