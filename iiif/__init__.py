"""IIIF vocabulary: a tolerant reader into one small model, and writers. Pure code, no I/O."""
