"""Sales channels connected to their platforms: connectors, per-channel available stock, syncs run as jobs."""
