"""The Checkpoint action: one POST per Checkpoint run, in the shape of SPEC section 8b."""

from __future__ import annotations

import datetime
from typing import Literal, Optional, Union

import requests
from great_expectations.checkpoint.actions import ActionContext, ValidationAction
from great_expectations.checkpoint.checkpoint import CheckpointResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.datasource.fluent.config_str import ConfigStr


def _run_id(run_id: RunIdentifier) -> str:
    """The run's identity: its time (UTC), after its name when it has one (a name alone repeats nightly)."""
    run_time = run_id.run_time
    if isinstance(run_time, datetime.datetime):
        if run_time.tzinfo is None:
            run_time = run_time.replace(tzinfo=datetime.timezone.utc)
        run_time = run_time.astimezone(datetime.timezone.utc).isoformat()
    return f"{run_id.run_name}@{run_time}" if run_id.run_name else str(run_time)


def checkpoint_payload(checkpoint_result: CheckpointResult, team: str) -> dict:
    """`{team, run_id, run_time, results: [{suite, asset, success, evaluated, successful}]}` of a Checkpoint run."""
    run_time = checkpoint_result.run_id.run_time
    if isinstance(run_time, datetime.datetime) and run_time.tzinfo is None:
        run_time = run_time.replace(tzinfo=datetime.timezone.utc)
    results = []
    for identifier, result in checkpoint_result.run_results.items():
        statistics = result.statistics
        results.append(
            {
                "suite": result.suite_name,
                "asset": result.asset_name or str(identifier.batch_identifier),
                "success": bool(result.success),
                "evaluated": int(statistics["evaluated_expectations"]),
                "successful": int(statistics["successful_expectations"]),
            }
        )
    return {
        "team": team,
        "run_id": _run_id(checkpoint_result.run_id),
        "run_time": run_time.isoformat() if isinstance(run_time, datetime.datetime) else str(run_time),
        "results": results,
    }


class KpiPipelineAction(ValidationAction):
    """Posts every validation result of a Checkpoint run to `url` (the pipeline's
    /v1/webhooks/great_expectations) with `Authorization: Bearer <token>`; `token` may be a
    config string such as "${KPI_GX_TOKEN}". Each result becomes one data.validated event."""

    type: Literal["kpi_pipeline"] = "kpi_pipeline"
    url: str
    token: Union[ConfigStr, str]
    team: str
    timeout_seconds: float = 10.0

    def run(self, checkpoint_result: CheckpointResult, action_context: Optional[ActionContext] = None) -> dict:
        token = self._substitute_config_str_if_needed(self.token)
        response = requests.post(
            self.url,
            json=checkpoint_payload(checkpoint_result, self.team),
            headers={"Authorization": f"Bearer {token}"},
            timeout=self.timeout_seconds,
        )
        # A refused post fails the action loudly: the pipeline's answer names what it could not map.
        response.raise_for_status()
        return {"kpi_pipeline": response.json()}
