"""Simulated surveys with known truth, in three seeded stages plus the truth computed alongside.

simulate_population(seed, params) -> DataFrame   the finite population of 141,655 practices
draw_sample(population, seed, n_invited, response_rate, ...) -> Sample   stratified sample + nonresponse
make_export(sample, seed, error_rate) -> Export  German Excel CSV text with planted errors
population_truth(population), census_models(population)   the known truth
simulate_dataset(seed, ...), write_dataset(ds, dir)      all of it as files (`surveydata simulate`)
"""
from .dataset import Dataset, simulate_dataset, stage_seeds, write_dataset
from .export import Export, make_export
from .population import TrueModel, simulate_population
from .sample import NonresponseModel, Sample, allocate, apply_skip_logic, draw_sample
from .truth import MODELS, analysis_variables, census_models, population_truth

__all__ = ["MODELS", "Dataset", "Export", "NonresponseModel", "Sample", "TrueModel", "allocate",
           "analysis_variables", "apply_skip_logic", "census_models", "draw_sample", "make_export",
           "population_truth", "simulate_dataset", "simulate_population", "stage_seeds", "write_dataset"]
