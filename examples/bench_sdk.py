"""The Databricks Python SDK's side of the jobsql benchmark (examples/bench.rs runs it).

Lists every run of the workspace with WorkspaceClient().jobs.list_runs() (the SDK pages
sequentially, 25 runs a page, expand_tasks=False) and prints `rows N seconds S` (S: from the
client's creation to the last run; the harness times the whole process too).

usage: bench_sdk.py HOST TOKEN
"""

import sys
import time


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    host, token = sys.argv[1], sys.argv[2]
    from databricks.sdk import WorkspaceClient

    started = time.perf_counter()
    client = WorkspaceClient(host=host, token=token)
    rows = 0
    for _run in client.jobs.list_runs(expand_tasks=False, limit=25):
        rows += 1
    print(f"rows {rows} seconds {time.perf_counter() - started:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
