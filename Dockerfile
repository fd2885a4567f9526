# syntax=docker/dockerfile:1
# The oisp-sensor image: Debian 12, multi-stage.
#
#   docker build -t oisp-sensor:0.1.0 .
#
# The BPF object is compiled against a vmlinux.h (CO-RE: one build runs on
# any kernel with BTF).  By default it is generated from the *build host's*
# /sys/kernel/btf/vmlinux, which `docker build` sees.  Where the builder has
# no BTF (some CI builders, remote builders), pin a header from the build
# context instead:
#   bpftool btf dump file /sys/kernel/btf/vmlinux format c > build/vmlinux.h
#   docker build --build-arg VMLINUX_H=build/vmlinux.h -t oisp-sensor:0.1.0 .
#
# The final stage holds the binary and its runtime libraries only.  It runs
# as a non-root user by default (oisp-sensor replay, status, --help); the
# capture needs uid 0 with CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN and
# CAP_SYS_PTRACE, which manifests/daemonset.yaml sets, e.g.:
#   docker run --rm --user 0 --pid host --cap-drop ALL \
#     --cap-add BPF --cap-add PERFMON --cap-add SYS_ADMIN --cap-add SYS_PTRACE \
#     -v /sys/kernel/btf:/sys/kernel/btf:ro oisp-sensor:0.1.0 run --output -

FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      make gcc libc6-dev clang llvm pkg-config bpftool \
      libbpf-dev libelf-dev zlib1g-dev libcjson-dev libpcre2-dev libyaml-dev \
      libbrotli-dev libhttp-parser-dev libmicrohttpd-dev libcurl4-openssl-dev \
      libmimalloc-dev libnghttp2-dev libcapstone-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# VMLINUX_H: a vmlinux.h in the build context; empty = from this host's BTF.
ARG VMLINUX_H=
ARG VERSION=0.1.0
RUN if [ -n "$VMLINUX_H" ]; then \
      make OUT=/out VERSION="$VERSION" VMLINUX_H="$VMLINUX_H"; \
    elif [ -r /sys/kernel/btf/vmlinux ]; then \
      make OUT=/out VERSION="$VERSION"; \
    else \
      echo "no /sys/kernel/btf/vmlinux on the build host: pass --build-arg VMLINUX_H=path/to/vmlinux.h" >&2; \
      exit 1; \
    fi \
 && /out/oisp-sensor --help >/dev/null

FROM debian:12-slim
ARG DEBIAN_FRONTEND=noninteractive
# The libraries `ldd oisp-sensor` lists, and CA certificates for the
# Kubernetes API client.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libbpf1 libelf1 zlib1g libcjson1 libpcre2-8-0 libyaml-0-2 libbrotli1 \
      libhttp-parser2.9 libcurl4 libmicrohttpd12 libmimalloc2.0 libnghttp2-14 \
      libcapstone4 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 oisp \
 && useradd --system --uid 65532 --gid oisp --home-dir /nonexistent \
      --shell /usr/sbin/nologin oisp \
 && install -d -o oisp -g oisp /var/log/oisp-sensor /run/oisp-sensor /output \
 && install -d /etc/oisp-sensor
COPY --from=build /out/oisp-sensor /usr/bin/oisp-sensor
COPY rules/default.yaml /usr/share/oisp-sensor/rules.yaml
RUN ldd /usr/bin/oisp-sensor | grep -q 'not found' && { ldd /usr/bin/oisp-sensor; exit 1; } || true
USER 65532:65532
EXPOSE 9464
ENTRYPOINT ["oisp-sensor"]
CMD ["run"]
