"""Simulated surveys with known truth (stages: population -> sample -> export; truth alongside)."""
from .population import TrueModel, simulate_population

__all__ = ["TrueModel", "simulate_population"]
