#!/usr/bin/env python3
"""Posts an Evidently 0.7 snapshot to the KPI pipeline's evidently connector, which turns each
drifted column and each failed test into an alert awaiting triage (SPEC section 8b).

From Python, after `snapshot = report.run(current_data, reference_data)`:

    from post_snapshot import post_snapshot
    post_snapshot(snapshot, url="https://kpi.example.com/v1/webhooks/evidently", token=..., team="ranking", model_id="ranker")

From a shell, with a snapshot saved by `snapshot.save_json("snapshot.json")` (or `snapshot.json()`):

    KPI_EVIDENTLY_TOKEN=... python post_snapshot.py snapshot.json --url https://kpi.example.com/v1/webhooks/evidently --team ranking --model-id ranker [--run nightly-2026-05-03]

`run` names the monitoring run (default: the SHA-256 of the snapshot), so a re-post counts once.
Only the standard library is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Optional


def post_snapshot(snapshot: Any, url: str, token: str, team: str, model_id: str, run: Optional[str] = None, timeout: float = 30.0) -> dict:
    """POSTs `snapshot` (an evidently Snapshot, or its JSON text) with ?team=&model_id=[&run=]; returns the pipeline's answer."""
    body = snapshot if isinstance(snapshot, str) else snapshot.json()
    query = {"team": team, "model_id": model_id, **({"run": run} if run else {})}
    request = urllib.request.Request(
        f"{url}?{urllib.parse.urlencode(query)}",
        data=body.encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        # The pipeline names what it could not map (no team, an unknown drift method, ...).
        raise RuntimeError(f"{url} answered {error.code}: {error.read().decode('utf-8', 'replace')}") from error


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("snapshot", help="snapshot JSON file (Snapshot.save_json / Snapshot.json())")
    parser.add_argument("--url", required=True, help="the pipeline's /v1/webhooks/evidently")
    parser.add_argument("--team", required=True)
    parser.add_argument("--model-id", required=True)
    parser.add_argument("--run", help="the monitoring run's id (default: the SHA-256 of the snapshot)")
    parser.add_argument("--token", default=os.environ.get("KPI_EVIDENTLY_TOKEN"), help="the connector's token (default: $KPI_EVIDENTLY_TOKEN)")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("no token: pass --token or set KPI_EVIDENTLY_TOKEN")
    with open(args.snapshot, encoding="utf-8") as file:
        answer = post_snapshot(file.read(), args.url, args.token, args.team, args.model_id, args.run)
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
