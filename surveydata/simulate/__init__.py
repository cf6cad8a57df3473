"""Simulated surveys with known truth, in three seeded stages plus the truth computed alongside.

The population model, the response model and the truth are declared in the study's
``simulation:`` section (YAML) and executed by the generic `engine`; the default is the packaged
practice study (the demo's). Every function takes ``study=`` (a Study, name or path).

simulate_population(seed, params) -> DataFrame   the study's finite population
draw_sample(population, seed, n_invited, response_rate, ...) -> Sample   stratified sample + nonresponse
make_export(sample, seed, error_rate) -> Export  German Excel CSV text with planted errors
population_truth(population), census_models(population)   the known truth
simulate_dataset(seed, ...), write_dataset(ds, dir)      all of it as files (`surveydata simulate`)
TrueModel, NonresponseModel, MODELS              the default study's parameters and census models
simulate_responses(instrument, n, seed) (generic) answers of ANY instrument from its priors alone
"""
from .dataset import Dataset, simulate_dataset, stage_seeds, write_dataset
from .export import Export, make_export
from .population import simulate_population
from .sample import Sample, allocate, apply_skip_logic, draw_sample
from .truth import analysis_variables, census_models, population_truth

__all__ = ["MODELS", "Dataset", "Export", "NonresponseModel", "Sample", "TrueModel", "allocate",
           "analysis_variables", "apply_skip_logic", "census_models", "draw_sample", "make_export",
           "population_truth", "simulate_dataset", "simulate_population", "stage_seeds", "write_dataset"]


def __getattr__(name):
    # the default study's parameter classes and census models are read from its declaration on
    # first use, so `import surveydata` does not load the study
    from . import population, sample, truth  # noqa: PLC0415 - lazy on purpose (see above)
    for module in (population, sample, truth):
        if name in ("TrueModel", "NonresponseModel", "MODELS") and hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
