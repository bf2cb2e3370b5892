"""A real GX Core 1.x Checkpoint over small pandas DataFrames, with the project's action
(integrations/great_expectations): argv url token team. Suite clicks_suite on clicks_daily has
three expectations, one failing; suite impressions_suite on impressions has two, both passing."""

import sys

import great_expectations as gx
import pandas as pd
from kpi_pipeline_gx import KpiPipelineAction

url, token, team = sys.argv[1:4]
context = gx.get_context(mode="ephemeral")
source = context.data_sources.add_pandas("frames")
frames = {
    "clicks_daily": pd.DataFrame({"user_id": [1, 2, 3, 4], "clicks": [3, 7, 250, 1]}),
    "impressions": pd.DataFrame({"user_id": [1, 2, 3], "impressions": [10, 20, 30]}),
}
suites = {
    "clicks_daily": gx.ExpectationSuite(
        name="clicks_suite",
        expectations=[
            gx.expectations.ExpectColumnValuesToNotBeNull(column="user_id"),
            gx.expectations.ExpectColumnValuesToBeBetween(column="clicks", min_value=0, max_value=100),  # 250 fails it
            gx.expectations.ExpectTableRowCountToBeBetween(min_value=1, max_value=10),
        ],
    ),
    "impressions": gx.ExpectationSuite(
        name="impressions_suite",
        expectations=[
            gx.expectations.ExpectColumnValuesToNotBeNull(column="user_id"),
            gx.expectations.ExpectColumnValuesToBeBetween(column="impressions", min_value=0),
        ],
    ),
}
action = KpiPipelineAction(name="kpi_pipeline", url=url, token=token, team=team)
# One Checkpoint per DataFrame: a run's batch parameters go to each of its validation definitions.
for asset_name, suite in suites.items():
    batch = source.add_dataframe_asset(name=asset_name).add_batch_definition_whole_dataframe(f"{asset_name}_whole")
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=f"{asset_name}_validation", data=batch, suite=context.suites.add(suite)))
    checkpoint = context.checkpoints.add(gx.Checkpoint(name=f"nightly_{asset_name}", validation_definitions=[definition], actions=[action]))
    checkpoint.run(batch_parameters={"dataframe": frames[asset_name]})
