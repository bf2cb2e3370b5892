"""Great Expectations Checkpoint action posting validation results to the KPI pipeline."""

from kpi_pipeline_gx.action import KpiPipelineAction, checkpoint_payload

__all__ = ["KpiPipelineAction", "checkpoint_payload"]
