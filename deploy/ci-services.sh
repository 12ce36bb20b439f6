#!/usr/bin/env bash
# Start what the test-suite needs beside the package itself. Idempotent; safe to run on a dev machine.
set -euo pipefail
echo "ci-services: nothing extra needed yet"
