"""`import analysis` loads the design machinery only: statsmodels and scipy.stats (about 100 MB
resident between them) load when a model is first used, so a session that only estimates means,
totals or tables does not carry them (benchmarks/README.md measures peak memory with the package
loaded)."""
from __future__ import annotations

import subprocess
import sys

HEAVY = ("statsmodels", "scipy.stats", "patsy")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
                         check=True, capture_output=True, text=True)
    return set(out.stdout.split())


def test_import_analysis_and_estimate_a_mean_without_the_model_stack():
    loaded = _modules_after(
        "import numpy as np, pandas as pd, analysis\n"
        "df = pd.DataFrame({'y': np.arange(8.0), 'w': 2.0, 's': [0, 0, 0, 0, 1, 1, 1, 1],"
        " 'c': range(8)})\n"
        "d = analysis.SurveyDesign(df, weights='w', strata='s', psu='c')\n"
        "d.mean('y'); d.total('y'); d.by('s').mean('y'); d.quantile('y', 0.5)"
    )
    assert not [m for m in HEAVY if m in loaded]


def test_a_model_name_loads_the_models_on_first_use():
    loaded = _modules_after("import analysis\nassert analysis.svyglm.__module__ == 'analysis.models.glm'")
    assert "statsmodels" in loaded
    import analysis

    assert set(analysis.__all__) <= set(dir(analysis))
    for name in analysis.__all__:
        assert getattr(analysis, name) is not None
