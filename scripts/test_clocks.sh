#!/usr/bin/env bash
# The whole suite at awkward moments: results must not depend on when it runs.
# Each instant is where the test clocks start (tests/support/clock.py). The PostgreSQL variants and
# the browser run once, in `make test`: the engine and the browser do not read the clock, and
# leaving them out keeps CI well under its 15 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
for now in \
  "2026-11-27T16:55:00+00:00" `# a Friday, 17:55 in Berlin: quiet hours and the weekend ahead` \
  "2026-11-29T12:00:00+00:00" `# a Sunday` \
  "2026-03-29T00:30:00+00:00" `# half an hour before Europe springs forward` \
  "2026-10-25T00:30:00+00:00" `# half an hour before Europe falls back` \
  "2026-03-08T06:30:00+00:00" `# half an hour before the US springs forward`
do
  echo "== tests with the clock at $now"
  CANDOR_TEST_NOW="$now" .venv/bin/pytest -q -n auto -p no:cacheprovider -k "not postgresql and not browser" "$@"
done
