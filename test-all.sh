#!/bin/bash
# Runs the cookbook examples and writes one "STATUS|cookbook|message" line
# per example to the results file.
#
#   ./test-all.sh [--host|--docker|--podman] [--results FILE] [COOKBOOK...]
#
# COOKBOOK is a folder under cookbook/ holding an expected-events.json
# (e.g. kubernetes/daemonset); none means all of them.
#
# Modes:
#   --docker  each example's Dockerfile.test (Docker-in-Docker: a k3d
#             cluster inside) runs its test.sh.  Needs a Docker engine.
#   --host    each example's host_test.py runs the same scenario on this
#             machine without a cluster (root, eBPF).  What CI runs.
#   --podman  each example's podman_test.py runs the sensor's image under
#             podman (runc) with the rendered DaemonSet's pod spec, and the
#             test app in containers (root, eBPF; tests/install-deps.sh
#             installs podman).  CI runs it too (make test).  Run it under
#             `flock /tmp/oisp-e2e.lock` like the other tests that run the
#             sensor (podman_test.py takes the lock itself otherwise).
#   default   --docker when `docker info` works, else --host.
#
# STATUS is PASS, FAIL or SKIP (the example has nothing for this mode).
# Exit status: 0 when nothing failed, 1 otherwise, 2 on a usage error.
set -u
cd "$(dirname "$0")"
ROOT=$PWD

mode=
results=${RESULTS_FILE:-$ROOT/build/cookbook/test-results.txt}
names=()
while [ $# -gt 0 ]; do
	case $1 in
	--host) mode=host ;;
	--docker) mode=docker ;;
	--podman) mode=podman ;;
	--results) results=$2; shift ;;
	--results=*) results=${1#--results=} ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) echo "test-all.sh: unknown option $1" >&2; exit 2 ;;
	*) names+=("${1%/}") ;;
	esac
	shift
done
if [ -z "$mode" ]; then
	if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
		mode=docker
	else
		mode=host
	fi
fi
if [ ${#names[@]} -eq 0 ]; then
	while IFS= read -r f; do
		d=${f%/expected-events.json}
		names+=("${d#cookbook/}")
	done < <(find cookbook -name expected-events.json | sort)
fi
if [ ${#names[@]} -eq 0 ]; then
	echo "test-all.sh: no cookbook found" >&2
	exit 2
fi
for n in "${names[@]}"; do
	if [ ! -f "cookbook/$n/expected-events.json" ]; then
		echo "test-all.sh: cookbook/$n has no expected-events.json" >&2
		exit 2
	fi
done

mkdir -p "$(dirname "$results")"
: > "$results"
logdir=$(dirname "$results")/logs
mkdir -p "$logdir"
echo "test-all.sh: mode $mode, ${#names[@]} cookbook(s), results in $results"

failed=0
record() { # STATUS NAME MESSAGE
	printf '%s|%s|%s\n' "$1" "$2" "$3" >> "$results"
	printf '== %s %s: %s\n' "$1" "$2" "$3"
	[ "$1" != FAIL ] || failed=1
}

last_line() { # LOG: the last non-empty line, for the message
	grep -v '^[[:space:]]*$' "$1" | tail -n 1 | tr '|' '/' | cut -c1-200
}

run_script() { # NAME SCRIPT MODE: cookbook/NAME/SCRIPT, one result line
	local n=$1 script=$2 mode=$3 log=$logdir/${1//\//_}.$3.log
	if [ ! -x "cookbook/$n/$script" ]; then
		record SKIP "$n" "no $mode mode (cookbook/$n/$script)"
		return
	fi
	echo "== $n ($mode mode), log: $log"
	"cookbook/$n/$script" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 0 ]; then
		record PASS "$n" "$mode mode: events match expected-events.json"
	else
		record FAIL "$n" "$mode mode exit $rc: $(last_line "$log")"
	fi
}

run_host() { # NAME
	if [ -x "cookbook/$1/host_test.py" ] && [ ! -x build/oisp-sensor ]; then
		make -s >/dev/null || { record FAIL "$1" "make failed"; return; }
	fi
	run_script "$1" host_test.py host
}

# The podman mode builds the sensor's image from Dockerfile itself.
run_podman() { # NAME
	run_script "$1" podman_test.py podman
}

images_built=
build_images() { # the sensor image, and the base image of the examples'
	[ -z "$images_built" ] || return 0
	local log=$logdir/images.log
	echo "== building the sensor and base images, log: $log"
	(
		set -e
		docker build -t oisp-sensor:0.1.0 -f Dockerfile \
			${VMLINUX_H:+--build-arg VMLINUX_H="$VMLINUX_H"} .
		docker build -t oisp-cookbook-base -f Dockerfile.test .
		mkdir -p build/cookbook/images
		docker save -o build/cookbook/images/oisp-sensor.tar oisp-sensor:0.1.0
	) > "$log" 2>&1 || { tail -n 30 "$log"; return 1; }
	images_built=1
}

run_docker() { # NAME
	local n=$1 tag log=$logdir/${1//\//_}.log rc
	if [ ! -f "cookbook/$n/Dockerfile.test" ]; then
		record SKIP "$n" "no cookbook/$n/Dockerfile.test"
		return
	fi
	if ! build_images; then
		record FAIL "$n" "building the images failed: $(last_line "$logdir/images.log")"
		return
	fi
	tag=oisp-cookbook-$(echo "$n" | tr '/' '-')
	echo "== $n (docker mode), log: $log"
	# Docker-in-Docker needs --privileged; the sensor image goes in through
	# /images, the captured events come out in /results.
	mkdir -p "build/cookbook/$n"
	(
		set -e
		docker build -t "$tag" -f "cookbook/$n/Dockerfile.test" .
		docker run --rm --privileged \
			-v "$ROOT/build/cookbook/images:/images:ro" \
			-v "$ROOT/build/cookbook/$n:/results" \
			"$tag"
	) > "$log" 2>&1
	rc=$?
	tail -n 30 "$log"
	if [ "$rc" -eq 0 ]; then
		record PASS "$n" "k3d: events match expected-events.json"
	else
		record FAIL "$n" "docker mode exit $rc: $(last_line "$log")"
	fi
}

for n in "${names[@]}"; do
	case $mode in
	host) run_host "$n" ;;
	docker) run_docker "$n" ;;
	podman) run_podman "$n" ;;
	esac
done
echo "test-all.sh: results:"
cat "$results"
exit "$failed"
