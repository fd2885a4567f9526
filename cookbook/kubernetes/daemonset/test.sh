#!/bin/sh
# The kubernetes/daemonset example, end to end, on a throwaway k3d cluster:
#   1. create the cluster;
#   2. import the sensor image (and the test app's images);
#   3. deploy the sensor with kustomize, wait until it is ready;
#   4. deploy the test app (mock OpenAI server + client Job), wait for the
#      Job to complete;
#   5. read the events file from the sensor pod and check it against
#      expected-events.json;
#   6. delete the cluster (always).
# Needs docker (an engine), k3d, kubectl and python3 with PyYAML.  Run from
# anywhere; the repository layout is found from this script's path.
# Environment: SENSOR_IMAGE (oisp-sensor:0.1.0, must exist in the local
# engine), CLUSTER (oisp-cookbook), RESULTS_DIR (where events.jsonl and the
# diagnostics go), KEEP_CLUSTER=1 (do not delete it).
# Exit status: the validator's (0 pass, 1 fail, 2 error); 2 on a setup error.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
CLUSTER=${CLUSTER:-oisp-cookbook}
SENSOR_IMAGE=${SENSOR_IMAGE:-oisp-sensor:0.1.0}
RESULTS_DIR=${RESULTS_DIR:-$ROOT/build/cookbook/kubernetes/daemonset}
APP_IMAGES="python:3.12-slim curlimages/curl:8.11.1"
TIMEOUT=${TIMEOUT:-240s}
mkdir -p "$RESULTS_DIR"

say() { printf '\n=== %s\n' "$*"; }

# shellcheck disable=SC2317  # (called from the EXIT trap)
diagnostics() {
	say "diagnostics (also in $RESULTS_DIR)"
	kubectl get pods -A -o wide 2>&1 | tee "$RESULTS_DIR/pods.txt" || true
	kubectl -n oisp-sensor describe pods > "$RESULTS_DIR/sensor-describe.txt" 2>&1 || true
	kubectl -n oisp-sensor logs ds/oisp-sensor --tail=200 2>&1 |
		tee "$RESULTS_DIR/sensor.log" | tail -n 40 || true
	kubectl -n oisp-test-app logs job/openai-client --tail=100 \
		> "$RESULTS_DIR/client.log" 2>&1 || true
	kubectl -n oisp-test-app logs deploy/mock-openai --tail=100 \
		> "$RESULTS_DIR/mock-openai.log" 2>&1 || true
}

# shellcheck disable=SC2317
cleanup() {
	rc=$?
	[ "$rc" -eq 0 ] || diagnostics
	if [ "${KEEP_CLUSTER:-}" = 1 ]; then
		say "cluster $CLUSTER kept (k3d cluster delete $CLUSTER)"
	else
		say "deleting cluster $CLUSTER"
		k3d cluster delete "$CLUSTER" >/dev/null 2>&1 || true
	fi
	exit "$rc"
}

for t in docker k3d kubectl python3; do
	command -v "$t" >/dev/null 2>&1 || { echo "test.sh: $t is missing" >&2; exit 2; }
done
docker image inspect "$SENSOR_IMAGE" >/dev/null 2>&1 || {
	echo "test.sh: image $SENSOR_IMAGE not found: docker build -t $SENSOR_IMAGE $ROOT" >&2
	exit 2
}

say "1. creating k3d cluster $CLUSTER"
k3d cluster delete "$CLUSTER" >/dev/null 2>&1 || true
trap cleanup EXIT
trap 'exit 130' INT TERM
k3d cluster create "$CLUSTER" --agents 0 --no-lb --wait --timeout "$TIMEOUT" \
	--k3s-arg '--disable=traefik@server:0' \
	--k3s-arg '--disable=metrics-server@server:0'
kubectl config use-context "k3d-$CLUSTER"

say "2. importing images"
for i in $APP_IMAGES; do
	docker image inspect "$i" >/dev/null 2>&1 || docker pull -q "$i"
done
# shellcheck disable=SC2086
k3d image import -c "$CLUSTER" "$SENSOR_IMAGE" $APP_IMAGES

say "3. deploying the sensor"
# The manifests name oisp-sensor:0.1.0; point them at SENSOR_IMAGE.
work=$(mktemp -d)
cp -r "$ROOT/manifests" "$work/"
( cd "$work/manifests" && kubectl kustomize . >/dev/null &&
  sed -i "s|newName: oisp-sensor\$|newName: ${SENSOR_IMAGE%:*}|; s|newTag: .*|newTag: ${SENSOR_IMAGE##*:}|" kustomization.yaml )
kubectl apply -k "$work/manifests" -l app.kubernetes.io/part-of=oisp-sensor
kubectl -n oisp-sensor rollout status ds/oisp-sensor --timeout="$TIMEOUT"
kubectl -n oisp-sensor exec ds/oisp-sensor -- oisp-sensor status

say "4. running the test app"
kubectl apply -k "$work/manifests" -l app.kubernetes.io/part-of=oisp-test-app
kubectl -n oisp-test-app rollout status deploy/mock-openai --timeout="$TIMEOUT"
kubectl -n oisp-test-app wait --for=condition=complete job/openai-client --timeout="$TIMEOUT"
kubectl -n oisp-test-app logs job/openai-client | tail -n 5

say "5. checking the events"
sleep 3
kubectl -n oisp-sensor exec ds/oisp-sensor -- cat /output/events.jsonl > "$RESULTS_DIR/events.jsonl"
kubectl -n oisp-sensor exec ds/oisp-sensor -- oisp-sensor status | tee "$RESULTS_DIR/status.txt"
echo "$(wc -l < "$RESULTS_DIR/events.jsonl") events"
set +e
python3 "$ROOT/tests/validate-expected.py" "$RESULTS_DIR/events.jsonl" "$HERE/expected-events.json"
vrc=$?
set -e
rm -rf "$work"
exit "$vrc"
