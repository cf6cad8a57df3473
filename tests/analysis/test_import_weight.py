"""`import analysis` loads the design machinery only: statsmodels and scipy.stats (about 100 MB
resident between them) load when a model is first used, so a session that only estimates means,
totals or tables does not carry them (benchmarks/README.md measures peak memory with the package
loaded)."""
from __future__ import annotations

import subprocess
import sys

HEAVY = ("statsmodels", "scipy.stats", "patsy", "scipy.sparse", "scipy.linalg")


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
        "d.mean('y'); d.total('y'); d.ratio('y', 'w'); d.quantile('y', 0.5)"
    )
    assert not [m for m in HEAVY if m in loaded]


def test_a_model_name_loads_the_models_on_first_use():
    loaded = _modules_after("import analysis\nassert analysis.svyglm.__module__ == 'analysis.models.glm'")
    assert "statsmodels" in loaded
    import analysis
    from analysis import models

    assert set(analysis._MODEL_NAMES) == set(models.__all__)
    assert set(models.__all__) <= set(analysis.__all__)
    assert set(analysis.__all__) <= set(dir(analysis))
    for name in analysis.__all__:
        assert getattr(analysis, name) is not None


def test_side_by_side_numeric_columns_are_read_in_place_and_give_the_same_estimates():
    """Consecutive float64 columns of one pandas block are used as an (n, k) read-only view
    (no n x k copy); any other layout is copied; both give identical numbers."""
    import numpy as np
    import pandas as pd

    from analysis import SurveyDesign
    from analysis.estimators import _variables

    rng = np.random.default_rng(3)
    block = pd.DataFrame(rng.normal(size=(50, 4)), columns=["a", "b", "c", "d"])
    block["w"] = rng.uniform(1, 3, 50)
    block["s"] = np.repeat([0, 1], 25)
    view = _variables(block, ["a", "b", "c"]).Y
    assert not view.flags.owndata and not view.flags.writeable
    assert np.shares_memory(view, block["a"].to_numpy())
    np.testing.assert_array_equal(view, block[["a", "b", "c"]].to_numpy())
    for cols in (["a", "c"], ["c", "b"], ["a"]):          # not side by side in this order
        assert not np.shares_memory(_variables(block, cols).Y, block["a"].to_numpy()) or cols == ["a"]
    separate = pd.concat([block[[c]].copy() for c in block.columns], axis=1)  # one block each
    assert _variables(separate, ["a", "b", "c"]).Y.flags.owndata
    d1 = SurveyDesign(block, weights="w", strata="s")
    d2 = SurveyDesign(separate, weights="w", strata="s")
    pd.testing.assert_frame_equal(d1.mean(["a", "b", "c"]), d2.mean(["a", "b", "c"]), rtol=0, atol=0)
    pd.testing.assert_frame_equal(d1.by("s").total(["a", "b"]), d2.by("s").total(["a", "b"]), rtol=0)
