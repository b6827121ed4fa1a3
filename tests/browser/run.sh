#!/bin/sh
# Browser tests: Playwright (the npm package playwright-core) driving
# Debian's Chromium headless through the real UI. scripts/test runs this
# with BOXOFFICE_URL, BOXOFFICE_ADMIN_EMAIL, BOXOFFICE_ADMIN_PASSWORD,
# BOXOFFICE_TEST_DATABASE_URL and BOXOFFICE_SANDBOX_URL set, after
# installing chromium, nodejs and npm. Screenshots of each test's key step
# land in tests/browser/artifacts/.
#   sh tests/browser/run.sh [FILE...]     (default: every *.test.mjs)
set -eu
cd "$(dirname "$0")"
# npm ci only when node_modules does not match the lockfile.
if ! npm ls --silent >/dev/null 2>&1; then
    npm ci --no-audit --no-fund --loglevel=error
fi
mkdir -p artifacts
if [ $# -eq 0 ]; then
    set -- ./*.test.mjs
fi
exec node --test "$@"
