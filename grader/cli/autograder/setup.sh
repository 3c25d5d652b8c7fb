#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, when it builds the autograder's
# image: it installs the grader in a virtual environment and makes the user that grades.
# Needs Python 3.11 or newer: choose Gradescope's Ubuntu 24.04 base image (Python 3.12).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=${GRADER_PREFIX:-/opt/grader}

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup.sh: the grader needs Python 3.11 or newer; this image has $(python3 -V 2>&1)" >&2
  echo "setup.sh: choose the Ubuntu 24.04 base image in the autograder's settings" >&2
  exit 1
fi
if ! python3 -c 'import ensurepip' 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
fi
python3 -m venv "$prefix"
"$prefix/bin/pip" install --quiet --disable-pip-version-check "$here/grader-src"
# The grading user reads the installation and the bundle; the sandbox's children read the
# interpreter's files before they are confined.
chmod -R a+rX "$prefix" "$here"
if ! id grader-run >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin grader-run
fi
echo "setup.sh: the grader is installed in $prefix"
