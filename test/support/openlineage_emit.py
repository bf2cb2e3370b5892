"""The real OpenLineage Python client (openlineage-python) with its HTTP transport and API-key auth,
configured as a user would, with only the pipeline's URL (the transport's default endpoint
api/v1/lineage): argv url api_key run_id start_time end_time. A job writing two datasets,
s3://lake/features/clicks and s3://lake/features/views, emits START, then COMPLETE."""

import sys

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.transport.http import HttpConfig, HttpTransport

url, api_key, run_id, start_time, end_time = sys.argv[1:6]
client = OpenLineageClient(transport=HttpTransport(HttpConfig.from_dict({"type": "http", "url": url, "auth": {"type": "api_key", "apiKey": api_key}})))
job = Job(namespace="airflow", name="features.build_clicks")
outputs = [OutputDataset(namespace="s3://lake", name="features/clicks"), OutputDataset(namespace="s3://lake", name="features/views")]
producer = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
for state, time in ((RunState.START, start_time), (RunState.COMPLETE, end_time)):
    client.emit(RunEvent(eventType=state, eventTime=time, run=Run(runId=run_id), job=job, producer=producer, outputs=outputs))
print("emitted START and COMPLETE")
