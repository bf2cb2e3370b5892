"""Real Evidently 0.7 snapshots posted with the repository's helper (integrations/evidently):
argv url token team model_id. First a drift report without tests over four columns of which two
drift (a: K-S p-value, c: Wasserstein distance), posted as run drift-1; then a test suite with a
failing test (missing values of d) and a passing one (missing values of b), posted without a run."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from evidently import Report
from evidently.metrics import MissingValueCount, ValueDrift
from evidently.tests import lte

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "integrations" / "evidently"))
from post_snapshot import post_snapshot  # noqa: E402

url, token, team, model_id = sys.argv[1:5]
rng = np.random.default_rng(20261207)
n = 400
reference = pd.DataFrame({column: rng.normal(0, 1, n) for column in "abcd"})
current = pd.DataFrame({"a": rng.normal(2, 1, n), "b": rng.normal(0, 1, n), "c": rng.normal(0, 1, n) + 3, "d": rng.normal(0, 1, n)})
current.loc[:9, "d"] = np.nan

drift = Report([ValueDrift(column="a"), ValueDrift(column="b", method="wasserstein"), ValueDrift(column="c", method="wasserstein"), ValueDrift(column="d")])
print(post_snapshot(drift.run(current_data=current, reference_data=reference), url, token, team, model_id, run="drift-1"))
suite = Report([MissingValueCount(column="d", tests=[lte(0)]), MissingValueCount(column="b", tests=[lte(0)])], include_tests=True)
print(post_snapshot(suite.run(current_data=current, reference_data=reference), url, token, team, model_id))
