"""What every model package shares: the sentence embedder, the version registry, paths."""
