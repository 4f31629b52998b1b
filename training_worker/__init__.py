"""Heavy and long work as dramatiq jobs: indexing, augmentation, training, evaluation."""
