#!/usr/bin/python3
"""Writes each alert component's prometheusrule.yaml from its plain rule file.

    manifests/components/mkprometheusrule.py           rewrite them
    manifests/components/mkprometheusrule.py --check   exit 1 if one differs

The plain files (*.rules.yml, what `promtool check rules` and a
prometheus.yml read) are the source; the PrometheusRule objects carry the
same groups for the Prometheus Operator, so the two cannot drift.
"""
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
# component directory -> (plain rule file, PrometheusRule name)
COMPONENTS = {
    "alerts": ("oisp-sensor.rules.yml", "oisp-sensor"),
    "alerts-no-events": ("oisp-sensor-no-events.rules.yml", "oisp-sensor-no-events"),
}
HEADER = """\
# Written by manifests/components/mkprometheusrule.py from {src}
# (the same groups as a Prometheus Operator PrometheusRule): edit that
# file and run the script, not this one.  An operator whose Prometheus
# selects rules by label (ruleSelector, e.g. release: kube-prometheus-stack)
# adds that label in its overlay.
"""


class Dumper(yaml.SafeDumper):
    pass


def _str(dumper, s):
    style = "|" if "\n" in s else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style=style)


Dumper.add_representer(str, _str)


def render(component):
    src, name = COMPONENTS[component]
    with open(os.path.join(HERE, component, src)) as f:
        rules = yaml.safe_load(f)
    obj = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": name,
            "namespace": "oisp-sensor",
            "labels": {
                "app.kubernetes.io/name": "oisp-sensor",
                "app.kubernetes.io/part-of": "oisp-sensor",
                "app.kubernetes.io/component": "alerts",
            },
        },
        "spec": {"groups": rules["groups"]},
    }
    return HEADER.format(src=src) + yaml.dump(obj, Dumper=Dumper, sort_keys=False,
                                               default_flow_style=False, width=1000)


def main(argv):
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        print(__doc__, file=sys.stderr)
        return 2
    differ = 0
    for component in COMPONENTS:
        path = os.path.join(HERE, component, "prometheusrule.yaml")
        text = render(component)
        try:
            with open(path) as f:
                old = f.read()
        except FileNotFoundError:
            old = None
        if old == text:
            continue
        if check:
            print("%s is not what %s gives: run %s" % (
                path, COMPONENTS[component][0], argv[0]), file=sys.stderr)
            differ = 1
        else:
            with open(path, "w") as f:
                f.write(text)
    return differ


if __name__ == "__main__":
    sys.exit(main(sys.argv))
