"""Simulated surveys with known truth, in three seeded stages plus the truth computed alongside.

simulate_population(seed, params) -> DataFrame   the finite population of ~141,700 practices
draw_sample(population, seed, n_invited, response_rate, ...) -> Sample   stratified sample + nonresponse
make_export(sample, seed, error_rate) -> Export  German Excel CSV text with planted errors
"""
from .export import Export, make_export
from .population import TrueModel, simulate_population
from .sample import NonresponseModel, Sample, allocate, apply_skip_logic, draw_sample

__all__ = ["Export", "NonresponseModel", "Sample", "TrueModel", "allocate", "apply_skip_logic",
           "draw_sample", "make_export", "simulate_population"]
