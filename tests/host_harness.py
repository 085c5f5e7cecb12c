"""Host harness: run rendered step scripts the way a node runs them (`bash -c` with the rendered
header and the shared helpers), in a scratch root, against stand-in system tools.

Why stand-ins: this machine has no systemd, kubelet, kubeadm, NVIDIA driver or second host, and the
steps must not touch its real /etc. Every script prefixes the host paths it reads or writes with
HOST_ROOT (never set on a node), so here they land in the scratch root; the system tools come first
on PATH as small bash programs that keep their state in `<root>/.sim` and log every call. Each one
models the behaviour the scripts depend on (apt's lists lock, an interrupted dpkg, kubeadm's init
phases and the files each writes, swap units that come back at boot, ...). `apt-get` against a real
lock is tested with the real tool in test_host_apt.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from components.common.shell import RenderedScript

PAUSE_IMAGE = "registry.k8s.io/pause:3.10.1"

_PRELUDE = """#!/usr/bin/env bash
SIM="$HOST_ROOT/.sim"
printf '%s %s\\n' "$(basename "$0")" "$*" >>"$SIM/calls"
"""

SHIMS: dict[str, str] = {
    # Scripts wait in loops; the stand-ins answer at once, so short real sleeps keep tests fast.
    "sleep": "exec /bin/sleep 0.1",
    "hostname": 'cat "$SIM/hostname"',
    "hostnamectl": '[[ "$1" == set-hostname ]] && printf "%s\\n" "$2" >"$SIM/hostname"; exit 0',
    "nproc": "echo 4",
    "modprobe": "exit 0",
    "sysctl": "exit 0",
    "chown": "exit 0",
    "ss": 'port=${2##*:}; grep -qx "$port" "$SIM/listening" 2>/dev/null && echo "LISTEN 0 4096 *:$port *:* users:((\\"other\\",pid=7))"; exit 0',
    "swapon": 'cat "$SIM/swaps" 2>/dev/null; exit 0',
    "swapoff": (
        ': >"$SIM/swaps"\n'
        'for f in "$SIM"/units/*.swap; do [[ -f $f ]] && sed -i "s/^active=.*/active=no/" "$f"; done; exit 0'
    ),
    "getent": (
        'name=$2; found=1\n'
        'while read -r addr names; do for n in $names; do [[ $n == "$name" ]] && { echo "$addr STREAM $name"; found=0; }; done\n'
        'done < <(grep -v "^#" "$HOST_ROOT/etc/hosts" 2>/dev/null; cat "$SIM/dns" 2>/dev/null)\n'
        "exit $found"
    ),
    "timedatectl": 'cat "$SIM/ntp" 2>/dev/null || echo yes',
    "ufw": 'if [[ -f "$SIM/ufw" ]]; then cat "$SIM/ufw"; else echo "Status: inactive"; fi',
    "firewall-cmd": 'grep -qx "${1#--query-port=}" "$SIM/firewalld-ports" 2>/dev/null',
    "nft": 'cat "$SIM/nft" 2>/dev/null; exit 0',
    "cloud-init": '[[ -f "$SIM/cloud-init-running" ]] && { rm -f "$SIM/cloud-init-running"; echo waited >>"$SIM/cloud-init-waited"; }; echo "status: done"',
    # Units: one file per unit under .sim/units (enabled=..., active=yes|no, swap=<device>, file=yes|no).
    # A transient unit (file=no: a zram device's swap unit) is only listed while it is active, as a
    # real inactive swap unit drops out of `list-units`. .sim/busy/<unit> counts `activating` answers.
    "systemctl": r"""
args=(); quiet=0; now=0
for a in "$@"; do
  case "$a" in --quiet) quiet=1 ;; --now) now=1 ;; --*) ;; *) args+=("$a") ;; esac
done
get() { sed -n "s/^$2=//p" "$SIM/units/$1" 2>/dev/null; }
put() { touch "$SIM/units/$1"; sed -i "/^$2=/d" "$SIM/units/$1"; echo "$2=$3" >>"$SIM/units/$1"; }
stop() { local dev; dev=$(get "$1" swap); [[ -n $dev ]] && sed -i "\|^$dev\$|d" "$SIM/swaps"; put "$1" active no; }
matches() { local u=$1 p; shift; (($# == 0)) && return 0; for p in "$@"; do [[ $u == $p ]] && return 0; done; return 1; }
mkdir -p "$SIM/units"
case "${args[0]}" in
  is-active) [[ "$(get "${args[1]}" active)" == yes ]] && { ((quiet)) || echo active; exit 0; }; ((quiet)) || echo inactive; exit 3 ;;
  is-enabled) s=$(get "${args[1]}" enabled); [[ -n $s ]] || { echo not-found; exit 1; }; echo "$s" ;;
  show)
    u=${args[1]}; n=$(cat "$SIM/busy/$u" 2>/dev/null || echo 0)
    if ((n > 0)); then echo $((n - 1)) >"$SIM/busy/$u"; echo activating; else echo inactive; fi ;;
  list-units)
    for f in "$SIM"/units/*; do
      [[ -f $f ]] || continue; u=$(basename "$f")
      [[ "$*" == *--type=swap* && $u != *.swap ]] && continue
      matches "$u" "${args[@]:1}" || continue
      [[ "$(get "$u" active)" == yes || "$(get "$u" file)" == yes ]] && echo "$u loaded $(get "$u" active) x"
    done; exit 0 ;;
  list-unit-files)
    for f in "$SIM"/units/*; do
      [[ -f $f ]] || continue; u=$(basename "$f")
      [[ "$*" == *--type=swap* && $u != *.swap ]] && continue
      matches "$u" "${args[@]:1}" || continue
      [[ "$(get "$u" file)" == yes ]] && echo "$u $(get "$u" enabled)"
    done; exit 0 ;;
  mask) for u in "${args[@]:1}"; do put "$u" enabled masked; ((now)) && stop "$u"; done; exit 0 ;;
  enable) for u in "${args[@]:1}"; do [[ "$(get "$u" enabled)" == masked ]] || put "$u" enabled enabled; ((now)) && put "$u" active yes; done; exit 0 ;;
  restart | start) [[ "$(get "${args[1]}" enabled)" == masked ]] && exit 1; put "${args[1]}" active yes ;;
  stop) stop "${args[1]}" ;;
esac
exit 0
""",
    # Packages: .sim/pkgs/<name> holds the installed version. .sim/lists-lock counts update attempts
    # that find the lists lock held; .sim/dpkg-interrupted makes installs fail like apt does.
    "apt-get": r"""
pkgs=(); cmd=
while (($#)); do
  case "$1" in -o) shift ;; -*) ;; update | install) cmd=$1 ;; *) pkgs+=("$1") ;; esac
  shift
done
if [[ -f "$SIM/cloud-init-running" ]] || [[ "$(cat "$SIM/lists-lock" 2>/dev/null || echo 0)" -gt 0 ]]; then
  n=$(cat "$SIM/lists-lock" 2>/dev/null || echo 1); echo $((n - 1)) >"$SIM/lists-lock"
  echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2
  echo "E: Unable to lock directory /var/lib/apt/lists/" >&2
  exit 100
fi
if [[ $cmd == install ]]; then
  if [[ -f "$SIM/dpkg-interrupted" ]]; then
    echo "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem." >&2
    exit 100
  fi
  mkdir -p "$SIM/pkgs"
  for p in "${pkgs[@]}"; do
    if [[ $p == *=* ]]; then echo "${p#*=}" >"$SIM/pkgs/${p%%=*}"; else echo 1.0 >"$SIM/pkgs/$p"; fi
    if [[ $p == nfs-common ]]; then mkdir -p "$HOST_ROOT/sbin"; printf '#!/bin/sh\n' >"$HOST_ROOT/sbin/mount.nfs"; chmod +x "$HOST_ROOT/sbin/mount.nfs"; fi
    if [[ ${p%%=*} == containerd.io ]]; then rm -f "$SIM/pkgs/containerd"; echo "v${p#*=}" >"$SIM/containerd-version"; fi
  done
fi
exit 0
""",
    "dpkg": '[[ "$1" == --print-architecture ]] && { echo amd64; exit 0; }; [[ "$*" == *"--configure -a"* ]] && rm -f "$SIM/dpkg-interrupted"; exit 0',
    "dpkg-query": r"""
pkg=${*: -1}; [[ -f "$SIM/pkgs/$pkg" ]] || exit 1
case "$2" in *Status*) echo "install ok installed" ;; *Version*) cat "$SIM/pkgs/$pkg" ;; esac
""",
    "apt-cache": 'grep "^ $2 |" "$SIM/madison"; exit 0',
    "apt-mark": "exit 0",
    "curl": "echo KEY",
    "gpg": 'while (($#)); do [[ $1 == -o ]] && { cat >"$2"; exit 0; }; shift; done; cat >/dev/null',
    "containerd": r"""
if [[ "$1 $2" == "config default" ]]; then
  printf '%s\n' 'version = 3' "[plugins.'io.containerd.cri.v1.images'.pinned_images]" "  sandbox = 'registry.k8s.io/pause:3.10'" \
    "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]" '  SystemdCgroup = false'
else
  echo "containerd containerd.io $(cat "$SIM/containerd-version" 2>/dev/null || echo 1.6.20~ds1) abc"
fi
""",
    "ctr": "exit 0",
    "nvidia-ctk": "exit 0",
    "exportfs": (
        'if [[ "$1" == -ra ]]; then grep -h "^/" "$HOST_ROOT"/etc/exports.d/*.exports | awk \'{print $1}\' >"$SIM/exported"; fi\n'
        'if [[ "$1" == -v ]]; then cat "$SIM/exported" 2>/dev/null; fi; exit 0'
    ),
    # The API as the scripts see it: /readyz answers once kubelet runs the etcd and API server
    # manifests (and .sim/api-broken is absent); Nodes and pods from .sim/node/<name>, .sim/pod/<name>.
    "kubectl": r"""
K="$HOST_ROOT/etc/kubernetes"
if [[ "$*" == *--raw=/readyz* ]]; then
  [[ -f "$K/manifests/etcd.yaml" && -f "$K/manifests/kube-apiserver.yaml" && -f "$SIM/kubelet-running" && ! -f "$SIM/api-broken" ]]
  exit
fi
prev=
for a in "$@"; do
  case "$prev" in node | pod) f="$SIM/$prev/$a"; [[ -f $f ]] || { echo "Error from server (NotFound)" >&2; exit 1; }; cat "$f"; exit 0 ;; esac
  prev=$a
done
exit 0
""",
    # kubeadm init runs its phases in order, each writing what the real phase writes; .sim/stop-after
    # names a phase after which it dies once (a timeout, a dropped session).
    "kubeadm": r"""
K="$HOST_ROOT/etc/kubernetes"
run_phase() {
  case "$1" in
    preflight)
      if compgen -G "$K/manifests/*.yaml" >/dev/null || [[ -d "$HOST_ROOT/var/lib/etcd/member" ]]; then
        echo "[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]: already exists" >&2; return 1
      fi ;;
    certs) mkdir -p "$K/pki"; [[ -f "$K/pki/ca.crt" ]] || echo "ca-$RANDOM" >"$K/pki/ca.crt" ;;
    kubeconfig) for f in admin super-admin kubelet controller-manager scheduler; do [[ -f "$K/$f.conf" ]] || echo "$f" >"$K/$f.conf"; done ;;
    etcd) mkdir -p "$K/manifests"; echo etcd >"$K/manifests/etcd.yaml" ;;
    control-plane) mkdir -p "$K/manifests"; for c in kube-apiserver kube-controller-manager kube-scheduler; do echo "$c" >"$K/manifests/$c.yaml"; done ;;
    kubelet-start) mkdir -p "$HOST_ROOT/var/lib/kubelet" "$HOST_ROOT/var/lib/etcd/member"; echo config >"$HOST_ROOT/var/lib/kubelet/config.yaml"; touch "$SIM/kubelet-running" ;;
    wait-control-plane) kubectl get --raw=/readyz >/dev/null 2>&1 || { echo "context deadline exceeded" >&2; return 1; } ;;
    *) kubectl get --raw=/readyz >/dev/null 2>&1 || { echo "$1: connection refused" >&2; return 1; } ;;
  esac
  echo "$1" >>"$SIM/phases"
}
case "$1 $2" in
  "init --config")
    for p in preflight certs kubeconfig etcd control-plane kubelet-start wait-control-plane upload-config upload-certs \
      mark-control-plane bootstrap-token kubelet-finalize addon show-join-command; do
      run_phase "$p" || exit 1
      if [[ "$(cat "$SIM/stop-after" 2>/dev/null)" == "$p" ]]; then rm -f "$SIM/stop-after"; echo "killed after $p" >&2; exit 143; fi
    done ;;
  "init phase") run_phase "$3" ;;
  "config images") printf '%s\n' registry.k8s.io/kube-apiserver:v1.34.2 registry.k8s.io/etcd:3.6.4-0 "$PAUSE_IMAGE" ;;
  "version -o") echo v1.34.2 ;;
  "join --config")
    mkdir -p "$K/pki"; echo ca >"$K/pki/ca.crt"; echo kubelet >"$K/kubelet.conf"; touch "$SIM/kubelet-running"
    printf 'enabled=enabled\nactive=yes\n' >"$SIM/units/kubelet"
    mkdir -p "$SIM/node"; echo "True kubelet is posting ready status" >"$SIM/node/$NODE_NAME" ;;
  "reset --force")
    rm -rf "$K/pki" "$K/manifests" "$K/kubelet.conf" "$K/bootstrap-kubelet.conf" "$K/admin.conf" "$SIM/kubelet-running"
    rm -f "$SIM/node/$NODE_NAME" "$SIM/pod/etcd-$NODE_NAME" ;;
esac
""",
}


class Host:
    """One simulated node: a scratch root (HOST_ROOT) with a Debian 12 skeleton and the stand-ins."""

    def __init__(self, base: Path, name: str = "cp-1", product_uuid: str = "4c4c4544-0001", mac: str = "52:54:00:00:00:01"):
        self.name = name
        self.root = base / name
        self.sim = self.root / ".sim"
        self.bin = base / f"{name}-bin"
        for d in (self.sim / "units", self.sim / "busy", self.bin, self.root / "etc/kubernetes", self.root / "sys/fs/cgroup",
                  self.root / "etc/systemd/system", self.root / "run/systemd/system", self.root / "proc"):  # fmt: skip
            d.mkdir(parents=True, exist_ok=True)
        self.write("etc/os-release", 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
        self.write("proc/meminfo", "MemTotal:       16384000 kB\n")
        self.write("etc/hosts", "127.0.0.1 localhost\n192.0.2.10 k8s-api.example.org\n")
        self.write("etc/fstab", "UUID=abc / ext4 defaults 0 1\n")
        self.write("sys/class/dmi/id/product_uuid", product_uuid + "\n")
        self.write("sys/class/net/eth0/address", mac + "\n")
        self.write(".sim/hostname", name + "\n")
        self.write(".sim/madison", "".join(
            f" {pkg} | {version} | https://example.invalid/ Packages\n"
            for pkg, version in [("kubeadm", "1.34.2-1.1"), ("kubelet", "1.34.2-1.1"), ("kubectl", "1.34.2-1.1"),
                                 ("containerd.io", "2.2.6-1~debian.12~bookworm"), ("containerd.io", "1.7.28-1~debian.12~bookworm")]
        ))  # fmt: skip
        for tool, body in SHIMS.items():
            path = self.bin / tool
            path.write_text(_PRELUDE + body + "\n")
            path.chmod(0o755)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def unit(self, name: str, *, enabled: str = "enabled", active: bool = True, swap: str = "", file: bool = True) -> None:
        """A systemd unit; `swap` is the device it turns on while active."""
        self.write(f".sim/units/{name}", f"enabled={enabled}\nactive={'yes' if active else 'no'}\nswap={swap}\nfile={'yes' if file else 'no'}\n")
        if active and swap:
            with (self.sim / "swaps").open("a") as f:
                f.write(swap + "\n")

    def unit_state(self, name: str) -> dict[str, str]:
        path = self.sim / "units" / name
        return dict(line.split("=", 1) for line in path.read_text().splitlines()) if path.exists() else {}

    def boot(self) -> list[str]:
        """Reboot: every enabled unit that makes swap turns it on again, as do fstab swap lines. Returns the swaps."""
        swaps: list[str] = []
        for path in sorted((self.sim / "units").iterdir()):
            state = self.unit_state(path.name)
            if state.get("enabled") == "enabled" and state.get("swap"):
                swaps.append(state["swap"])
        for line in (self.root / "etc/fstab").read_text().splitlines():
            fields = line.split()
            if line and not line.startswith("#") and len(fields) > 2 and fields[2] == "swap":
                swaps.append(fields[0])
        (self.sim / "swaps").write_text("".join(s + "\n" for s in swaps))
        return swaps

    def calls(self, tool: str | None = None) -> list[str]:
        path = self.sim / "calls"
        lines = path.read_text().splitlines() if path.exists() else []
        return [line for line in lines if tool is None or line.split(" ", 1)[0] == tool]

    def run(self, script: RenderedScript, stdin: str = "", timeout: int = 120, **env: str) -> subprocess.CompletedProcess[str]:
        """Run the rendered script as pulumi-command does on a node: `bash -c SCRIPT NAME`."""
        full_env = {
            **os.environ,
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "HOST_ROOT": str(self.root),
            "PAUSE_IMAGE": PAUSE_IMAGE,
            "NODE_NAME": self.name,
            **env,
        }
        return subprocess.run(
            ["bash", "-c", script.text, script.name], input=stdin, env=full_env, capture_output=True, text=True, timeout=timeout
        )
