#!/usr/bin/env bash
# The Python tools `make test` and `make demo` run: moto_server, cfn-lint and
# aws-sam-translator (which cfn-lint brings), and for `infra/tools.sh demo`
# the AWS CLI. What is on the PATH is used as
# it is; what is missing is installed, at the pinned version, into a
# project-local virtualenv (.venv) with pip. The Makefile puts .venv/bin at
# the end of the PATH, so tools already installed come first.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO="moto[server]==5.2.1"
CFN_LINT="cfn-lint==1.51.0"
AWSCLI="awscli==1.45.11"
VENV=.venv

have() { command -v "$1" >/dev/null 2>&1 || [ -x "$VENV/bin/$1" ]; }
# aws-sam-translator must import in the python that runs infra/samtranslate.py.
have_sam() { python3 -c 'import samtranslator' 2>/dev/null || { [ -x "$VENV/bin/python3" ] && "$VENV/bin/python3" -c 'import samtranslator' 2>/dev/null; }; }

want=()
have moto_server || want+=("$MOTO")
{ have cfn-lint && have_sam; } || want+=("$CFN_LINT")
[ "${1:-}" != demo ] || have aws || want+=("$AWSCLI")
[ ${#want[@]} -eq 0 ] && exit 0

command -v python3 >/dev/null || { echo "tools: python3 is not installed; install it (Debian: apt-get install python3 python3-venv), then run make again" >&2; exit 1; }
echo "tools: installing ${want[*]} into $VENV" >&2
if [ ! -x "$VENV/bin/pip" ]; then
	python3 -m venv "$VENV" || { rm -rf "$VENV"; echo "tools: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
fi
if ! "$VENV/bin/pip" install --disable-pip-version-check --quiet --timeout 20 --retries 1 "${want[@]}"; then
	cat >&2 <<MSG
tools: pip could not install ${want[*]} (is the Python package index reachable from here?).
Install them by hand, at these versions, so that moto_server and cfn-lint are on the PATH:
    pip install ${want[*]}
then run make again.
MSG
	exit 1
fi
