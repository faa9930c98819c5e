"""A realistic, deterministic LibreChat v0.8.0-rc3 dataset (``migrator seed``)."""

from migrator.seed.dataset import HazardCount, SeedSummary, seed, seed_database
from migrator.seed.hazards import HAZARDS, Hazard

__all__ = ["HAZARDS", "Hazard", "HazardCount", "SeedSummary", "seed", "seed_database"]
