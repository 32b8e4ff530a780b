#!/usr/bin/env bash
# Starts moto (getmoto/moto 5.2.2, Apache-2.0, its source in moto-5.2.2.tgz beside this script) in server mode on
# 127.0.0.1:PORT and prints its PID: an independent implementation of the AWS APIs (S3 with conditional writes, EC2)
# that the tests use as a second opinion where the project's own simulators and fauxqs cannot be one.
# usage: start-moto.sh PORT [WORKDIR]      (WORKDIR default: a fresh temporary directory; reused when it holds moto)
# Point the SDK at it with AWS_ENDPOINT_URL=http://127.0.0.1:PORT, any access key, AWS_REGION=us-east-1.
# Reset all state: curl -X POST http://127.0.0.1:PORT/moto-api/reset. Its log is WORKDIR/moto.log. Stop it: kill PID.
# With --install-only, installs the Python dependencies (Debian packages, apt-get) and exits: scripts/test does that.
# The dependencies are installed only when one is missing, so running this again changes nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
modules='import werkzeug, flask, flask_cors, boto3, xmltodict, responses, jinja2, cryptography, dateutil, yaml, requests'
install_dependencies() {
  if /usr/bin/python3 -c "$modules" 2>/dev/null; then
    return 0
  fi
  if ! command -v apt-get >/dev/null; then
    echo "moto's Python modules are missing and apt-get is not available; install Python 3 with: $modules" >&2
    return 1
  fi
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache show python3-flask-cors >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -qq >/dev/null || true
  fi
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    python3 python3-boto3 python3-botocore python3-werkzeug python3-flask python3-flask-cors python3-xmltodict \
    python3-responses python3-jinja2 python3-cryptography python3-dateutil python3-requests python3-yaml >/dev/null
}
if [[ "${1:-}" == "--install-only" ]]; then
  install_dependencies
  exit 0
fi
port=${1:?usage: start-moto.sh PORT [WORKDIR]}
work=${2:-$(mktemp -d "${TMPDIR:-/tmp}/moto.XXXXXX")}
mkdir -p "$work"
install_dependencies
[ -d "$work/moto" ] || tar -xzf "$here/moto-5.2.2.tgz" -C "$work"
# Debian does not package openapi-spec-validator; moto imports it only for API Gateway imports.
mkdir -p "$work/shim/openapi_spec_validator/validation"
printf 'def validate(*args, **kwargs):\n    return None\nvalidate_spec = validate\n' >"$work/shim/openapi_spec_validator/__init__.py"
: >"$work/shim/openapi_spec_validator/validation/__init__.py"
printf 'class OpenAPIValidationError(Exception):\n    pass\n' >"$work/shim/openapi_spec_validator/validation/exceptions.py"
cd "$work"
# Debian's python3-awscrt lacks a checksum moto asks for; hiding it makes botocore use its own code.
PYTHONPATH=$work:$work/shim MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION=1 nohup /usr/bin/python3 -c \
  'import sys; sys.modules["awscrt"]=None; from moto.server import main; main()' -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
pid=$!
for _ in $(seq 1 240); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/moto-api/data.json" && { echo "$pid"; exit 0; }
  kill -0 "$pid" 2>/dev/null || { echo "moto exited; see $work/moto.log" >&2; tail -n 5 "$work/moto.log" >&2; exit 1; }
  sleep 0.5
done
echo "moto did not answer on port $port within 120 s; see $work/moto.log" >&2; kill "$pid"; exit 1
