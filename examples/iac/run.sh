#!/usr/bin/env bash
# Infrastructure as code with jobsql: submit a run, wait for it by polling with SELECT, show
# what the cleanup would delete (--dry-run), then clean up. Exits non-zero on any error or if
# the run did not succeed.
#
# Try it against the emulator:
#   jobsql emulator --phase-ms 500 &
#   export DATABRICKS_HOST=http://127.0.0.1:8080 DATABRICKS_TOKEN=dev-emulator-token
#   examples/iac/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
jobsql="${JOBSQL:-jobsql}"
poll_seconds="${POLL_SECONDS:-1}"

# --format csv prints a header line, then the values.
value() {
  local out
  out="$("$jobsql" query --format csv "$@")" || exit 1
  tail -n +2 <<<"$out"
}

run_id="$(value -f "$here/submit.sql")"
echo "submitted run $run_id"

status_sql="$(sed "s/:run_id/$run_id/" "$here/status.sql")"
for _ in $(seq 1 600); do
  status="$(value -- "$status_sql")"
  IFS=, read -r life_cycle result <<<"$status"
  echo "run $run_id: $life_cycle $result"
  case "$life_cycle" in
    TERMINATED | SKIPPED | INTERNAL_ERROR) break ;;
  esac
  sleep "$poll_seconds"
done

echo "the cleanup would send:"
"$jobsql" query --dry-run -f "$here/cleanup.sql"
"$jobsql" query -f "$here/cleanup.sql"

[ "$result" = "SUCCESS" ] || { echo "run $run_id ended $life_cycle $result" >&2; exit 1; }
