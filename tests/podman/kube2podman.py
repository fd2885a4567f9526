#!/usr/bin/python3
"""A container of a rendered Kubernetes pod template as `podman run` flags.

  kubectl kustomize manifests/ | tests/podman/kube2podman.py - DaemonSet/oisp-sensor/oisp-sensor

prints the `podman run` command that runs the DaemonSet's container as the
kubelet would (KIND/NAME/CONTAINER), and writes the ConfigMap volumes it
mounts under ./podman-volumes.  hostPath volumes are the host's own paths
there; the tests put them under a directory of the run instead.  Add
`--runtime runc` and `--ulimit` flags where the host needs them.

Why not `podman kube play`: podman 4.3's kube play starts an infra (pause)
container that it builds from catatonit (not installed with podman, and
refused here: "finding pause binary: catatonit"), takes no --ulimit (the
default limits cannot be raised on every host, so the tests pass them), and
runs no readiness probes.  The fields are therefore translated here, and
every field of the container and pod spec is either translated or named in
IGNORED with the reason; anything else is refused (Unsupported), so a new
field in the manifests cannot go untested silently.

Translated:
  command, args           --entrypoint (JSON) and the arguments
  env                     --env; valueFrom.fieldRef spec.nodeName is the
                          node name given (the host's)
  image, imagePullPolicy  the image (through image_map), --pull never
                          (IfNotPresent and Never: the image is built here)
  securityContext         pod and container level merged, as Kubernetes does:
    runAsUser/runAsGroup  --user U:G (runAsNonRoot checked against it)
    readOnlyRootFilesystem  --read-only --read-only-tmpfs=false (podman
                          would otherwise mount tmpfs on /tmp, /run, /var/tmp)
    capabilities          --cap-drop / --cap-add, in that order
    privileged            --privileged
    allowPrivilegeEscalation false   --security-opt no-new-privileges
    seccompProfile        RuntimeDefault: podman's default profile; absent:
                          --security-opt seccomp=unconfined, the kubelet's
                          default (Unconfined unless SeccompDefault is on)
  hostPID                 --pid host
  hostNetwork             --network host; otherwise the caller's network
                          (the pod's own network namespace)
  resources.limits        --memory, --cpus
  volumes + volumeMounts  configMap: its keys written to a directory, mounted
                          read-only; hostPath: /sys/... as is, any other path
                          under hostpath_base (a run of the tests must not
                          write the node's /var/log), created for
                          DirectoryOrCreate; emptyDir: tmpfs (medium Memory,
                          sizeLimit as tmpfs-size) or a directory of the run
  livenessProbe (exec)    --health-cmd and its timing (podman healthcheck run)
  terminationGracePeriodSeconds  --stop-timeout
  metadata.labels         --label
Exit status of the command line: 0, 2 on a field it cannot translate.
"""
import json
import os
import re
import socket
import sys

import yaml

# Fields read by nothing here, and why that is faithful.
IGNORED = {
    "pod.serviceAccountName": "no API server: no token is mounted, and the "
                              "sensor's kubernetes.enabled: auto turns itself off",
    "pod.automountServiceAccountToken": "no token is mounted in any case",
    "pod.tolerations": "scheduling only",
    "pod.restartPolicy": "the test runs each container once",
    "container.resources.requests": "scheduling only",
    "container.ports": "no hostPort: nothing is published, as in a pod "
                       "(the port stays in the container's network namespace)",
    "container.readinessProbe": "returned to the caller, which runs it with "
                                "podman exec (podman 4.3 has no readiness check)",
    "container.imagePullPolicy": "see image",
    "container.name": "the container's name is the caller's",
}


class Unsupported(Exception):
    """The spec has a field this translation does not express."""


def quantity(q, what):
    """Kubernetes quantity -> number (bytes for memory, cores for cpu)."""
    s = str(q)
    m = re.fullmatch(r"([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?", s)
    if not m:
        raise Unsupported("%s: quantity %r" % (what, s))
    mult = {None: 1, "m": 1e-3, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30,
            "Ti": 1 << 40, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[m.group(2)]
    return float(m.group(1)) * mult


def find(objs, kind, name, namespace=None):
    got = [o for o in objs if o.get("kind") == kind and o["metadata"]["name"] == name
           and (namespace is None or o["metadata"].get("namespace") == namespace)]
    if len(got) != 1:
        raise Unsupported("expected one %s %s/%s in the rendered manifests, found %d"
                          % (kind, namespace, name, len(got)))
    return got[0]


def pod_template(obj):
    """(pod metadata, pod spec) of a Pod, Job, Deployment or DaemonSet."""
    if obj["kind"] == "Pod":
        return obj["metadata"], obj["spec"]
    t = obj["spec"]["template"]
    return t.get("metadata", {}), t["spec"]


def _check_keys(d, known, what):
    extra = set(d) - set(known)
    if extra:
        raise Unsupported("%s: %s not translated" % (what, ", ".join(sorted(extra))))


def _env(c, node_name):
    out = []
    for e in c.get("env", []):
        if "value" in e:
            out.append((e["name"], str(e["value"])))
        elif e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName":
            out.append((e["name"], node_name))
        else:
            raise Unsupported("env %s: only value and fieldRef spec.nodeName" % e["name"])
    return out


def _security(pod, c):
    """The pod's and the container's securityContext, merged; flags."""
    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
    _check_keys(psc, ("runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile"),
                "pod securityContext")
    _check_keys(csc, ("runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile",
                      "privileged", "readOnlyRootFilesystem", "capabilities",
                      "allowPrivilegeEscalation"), "container securityContext")
    sc = dict(psc, **csc)
    flags = []
    if "runAsUser" in sc:
        uid = int(sc["runAsUser"])
        if sc.get("runAsNonRoot") and uid == 0:
            raise Unsupported("runAsNonRoot with runAsUser 0")
        flags += ["--user", "%d:%d" % (uid, int(sc.get("runAsGroup", uid)))]
    elif sc.get("runAsNonRoot"):
        raise Unsupported("runAsNonRoot without runAsUser (the image's user is not checked)")
    if sc.get("privileged"):
        flags.append("--privileged")
    if sc.get("readOnlyRootFilesystem"):
        flags += ["--read-only", "--read-only-tmpfs=false"]
    caps = sc.get("capabilities", {})
    _check_keys(caps, ("add", "drop"), "capabilities")
    for cap in caps.get("drop", []):
        flags += ["--cap-drop", cap.upper()]
    for cap in caps.get("add", []):
        flags += ["--cap-add", cap.upper()]
    if sc.get("allowPrivilegeEscalation") is False:
        flags += ["--security-opt", "no-new-privileges"]
    prof = (sc.get("seccompProfile") or {}).get("type")
    if prof is None or prof == "Unconfined":
        flags += ["--security-opt", "seccomp=unconfined"]
    elif prof != "RuntimeDefault":
        raise Unsupported("seccompProfile %s" % prof)
    return flags


def _volumes(pod, c, objs, namespace, volumes_dir, hostpath_base):
    """Flags for the container's volume mounts; writes ConfigMap volumes."""
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    flags, host_paths = [], {}
    for m in c.get("volumeMounts", []):
        _check_keys(m, ("name", "mountPath", "readOnly"), "volumeMount %s" % m.get("name"))
        v = vols[m["name"]]
        dst = m["mountPath"]
        ro = ":ro" if m.get("readOnly") else ""
        if "configMap" in v:
            cm = find(objs, "ConfigMap", v["configMap"]["name"], namespace)
            d = os.path.join(volumes_dir, m["name"])
            os.makedirs(d, exist_ok=True)
            for key, text in cm.get("data", {}).items():
                with open(os.path.join(d, key), "w") as f:
                    f.write(text)
            # A ConfigMap volume is read-only whatever the mount says.
            flags += ["-v", "%s:%s:ro" % (d, dst)]
            host_paths[dst] = d
        elif "hostPath" in v:
            hp = v["hostPath"]
            src = hp["path"]
            if not src.startswith("/sys/"):
                src = os.path.join(hostpath_base, src.lstrip("/"))
            kind = hp.get("type", "")
            if kind == "DirectoryOrCreate":
                os.makedirs(src, exist_ok=True)
            elif kind == "Directory" and not os.path.isdir(src):
                raise Unsupported("hostPath %s (type Directory) does not exist" % src)
            elif kind not in ("", "Directory"):
                raise Unsupported("hostPath type %s" % kind)
            flags += ["-v", "%s:%s%s" % (src, dst, ro)]
            host_paths[dst] = src
        elif "emptyDir" in v:
            ed = v["emptyDir"] or {}
            if ed.get("medium") == "Memory":
                spec = "type=tmpfs,destination=%s" % dst
                if "sizeLimit" in ed:
                    spec += ",tmpfs-size=%d" % quantity(ed["sizeLimit"], "sizeLimit")
                flags += ["--mount", spec]
            else:
                d = os.path.join(volumes_dir, m["name"])
                os.makedirs(d, exist_ok=True)
                flags += ["-v", "%s:%s%s" % (d, dst, ro)]
                host_paths[dst] = d
        else:
            raise Unsupported("volume %s: only configMap, hostPath and emptyDir" % m["name"])
    return flags, host_paths


def _seconds(n):
    return "%ds" % int(n)


def _liveness(c):
    p = c.get("livenessProbe")
    if not p:
        return []
    if "exec" not in p:
        raise Unsupported("livenessProbe: only exec probes become podman health checks")
    return ["--health-cmd", json.dumps(p["exec"]["command"]),
            "--health-interval", _seconds(p.get("periodSeconds", 10)),
            "--health-timeout", _seconds(p.get("timeoutSeconds", 1)),
            "--health-retries", str(p.get("failureThreshold", 3)),
            "--health-start-period", _seconds(p.get("initialDelaySeconds", 0))]


def translate(objs, obj, container, *, name, image_map, volumes_dir, hostpath_base,
              network="none", node_name=None, extra_flags=()):
    """`podman run` arguments (after `podman run`) for @container (its name)
    of @obj, a workload of the rendered manifests @objs.

    image_map: {image in the manifest: local image reference}; an image not
    in it is used as named.  volumes_dir: where ConfigMap and disk emptyDir
    volumes are written.  hostpath_base: where hostPath volumes other than
    /sys/... are.  network: --network unless the pod has hostNetwork.
    Returns {"argv": [...], "host_paths": {mountPath: host path},
    "readiness": probe or None, "liveness": probe or None, "container": spec}.
    Raises Unsupported for a field it does not translate.
    """
    meta, pod = pod_template(obj)
    _check_keys(pod, ("containers", "volumes", "hostPID", "hostNetwork",
                      "securityContext", "terminationGracePeriodSeconds",
                      "serviceAccountName", "automountServiceAccountToken",
                      "tolerations", "restartPolicy"), "pod spec")
    cs = [c for c in pod["containers"] if c["name"] == container]
    if len(cs) != 1:
        raise Unsupported("no container %s" % container)
    c = cs[0]
    _check_keys(c, ("name", "image", "imagePullPolicy", "command", "args", "env", "ports",
                    "securityContext", "resources", "livenessProbe", "readinessProbe",
                    "volumeMounts"), "container %s" % container)
    for p in c.get("ports", []):
        if "hostPort" in p:
            raise Unsupported("hostPort")
    if c.get("imagePullPolicy", "IfNotPresent") == "Always":
        raise Unsupported("imagePullPolicy Always (no registry)")
    namespace = obj["metadata"].get("namespace")
    node_name = node_name or socket.gethostname()
    argv = ["--name", name, "--pull", "never"]
    for k, v in sorted(meta.get("labels", {}).items()):
        argv += ["--label", "%s=%s" % (k, v)]
    argv += ["--pid", "host"] if pod.get("hostPID") else []
    argv += ["--network", "host" if pod.get("hostNetwork") else network]
    argv += _security(pod, c)
    for k, v in _env(c, node_name):
        argv += ["--env", "%s=%s" % (k, v)]
    lim = c.get("resources", {}).get("limits", {})
    if "memory" in lim:
        argv += ["--memory", "%d" % quantity(lim["memory"], "memory")]
    if "cpu" in lim:
        argv += ["--cpus", "%g" % quantity(lim["cpu"], "cpu")]
    vflags, host_paths = _volumes(pod, c, objs, namespace, volumes_dir, hostpath_base)
    argv += vflags
    argv += _liveness(c)
    if "terminationGracePeriodSeconds" in pod:
        argv += ["--stop-timeout", str(pod["terminationGracePeriodSeconds"])]
    argv += list(extra_flags)
    if "command" in c:
        argv += ["--entrypoint", json.dumps(c["command"])]
    argv.append(image_map.get(c["image"], c["image"]))
    argv += [str(a) for a in c.get("args", [])]
    return {"argv": argv, "host_paths": host_paths, "container": c,
            "readiness": c.get("readinessProbe"), "liveness": c.get("livenessProbe")}


def main(argv):
    import shlex
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    src, ref = argv[1], argv[2]
    text = sys.stdin.read() if src == "-" else open(src).read()
    objs = [d for d in yaml.safe_load_all(text) if d]
    try:
        kind, ns_name, cname = ref.split("/")
    except ValueError:
        print("kube2podman: name the container as KIND/NAME/CONTAINER", file=sys.stderr)
        return 2
    try:
        obj = find(objs, kind, ns_name)
        out = translate(objs, obj, cname, name=ns_name, image_map={},
                        volumes_dir=os.path.abspath("podman-volumes"),
                        hostpath_base="/")
    except Unsupported as e:
        print("kube2podman: %s" % e, file=sys.stderr)
        return 2
    print("podman run -d " + " ".join(shlex.quote(a) for a in out["argv"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
