#!/usr/bin/env bash
# shellcheck shell=bash
# Preflight: refuse hosts that kubeadm would fail on later (often only after a 5-minute timeout),
# every problem at once, each with its fix. Prints this host's identity (product_uuid, MACs) on
# stdout for the unique-hosts step, which compares all nodes.
# Parameters: NODE_NAME MIN_CPUS MIN_MEMORY_MIB MANAGE_HOSTNAMES CHECK_PORTS FIREWALL_PORTS API_HOST
# API_ADDRESS

problems=()
# shellcheck source=/dev/null
. "${HOST_ROOT}/etc/os-release"
case "${ID:-}-${VERSION_ID:-}" in
  debian-12 | ubuntu-22.04 | ubuntu-24.04) ;;
  *) problems+=("unsupported OS ${PRETTY_NAME:-unknown}: use Debian 12, Ubuntu 22.04 or Ubuntu 24.04") ;;
esac

cpus=$(nproc)
((cpus >= MIN_CPUS)) || problems+=("${cpus} CPUs, at least ${MIN_CPUS} required")

memory_mib=$(($(awk '/^MemTotal:/ {print $2}' "${HOST_ROOT}/proc/meminfo") / 1024))
((memory_mib >= MIN_MEMORY_MIB)) || problems+=("${memory_mib} MiB memory, at least ${MIN_MEMORY_MIB} MiB required")

if [[ "$MANAGE_HOSTNAMES" != true ]] && [[ "$(hostname)" != "$NODE_NAME" ]]; then
  problems+=("hostname is $(hostname), expected ${NODE_NAME} (or set cluster.manage_hostnames)")
fi

[[ -d "${HOST_ROOT}/sys/fs/cgroup" ]] || problems+=("no cgroup filesystem")
command -v systemctl >/dev/null || problems+=("systemd is required")

joined=false
if [[ -f "${HOST_ROOT}${KUBE_DIR}/kubelet.conf" ]]; then
  joined=true
fi
# Ports only matter before the node is part of the cluster; afterwards our own services hold them.
if [[ "$joined" == false ]]; then
  for port in $CHECK_PORTS; do
    if ss -Hltn "sport = :${port}" | grep -q .; then
      problems+=("port ${port} is already in use: $(ss -Hltnp "sport = :${port}" | head -n 1)")
    fi
  done
fi

# Every node reaches the API through its endpoint name; a name that resolves elsewhere (or nowhere)
# shows up only as a join timed out after 5 minutes.
if [[ ! "$API_HOST" =~ ^[0-9.]+$ ]]; then
  resolved=$(getent ahostsv4 "$API_HOST" | awk '{print $1}' | sort -u | tr '\n' ' ' || true)
  resolved=${resolved% }
  if [[ -z "$resolved" ]]; then
    problems+=("the API endpoint ${API_HOST} does not resolve: add it to DNS or to /etc/hosts (${API_ADDRESS:-<load balancer address>} ${API_HOST})")
  elif [[ -n "$API_ADDRESS" ]] && [[ " ${resolved} " != *" ${API_ADDRESS} "* ]]; then
    problems+=("the API endpoint ${API_HOST} resolves to ${resolved}, not to the load balancer address ${API_ADDRESS}: fix DNS or /etc/hosts (${API_ADDRESS} ${API_HOST})")
  fi
fi

# Certificates and etcd need agreeing clocks: a skew shows up as TLS errors or etcd leader churn.
synced=$(timedatectl show --property=NTPSynchronized --value 2>/dev/null || true)
if [[ "$synced" != yes ]]; then
  problems+=("the clock is not synchronised (timedatectl: NTPSynchronized=${synced:-unknown}): install and enable chrony or systemd-timesyncd (apt-get install chrony), then check 'timedatectl'")
fi

# shellcheck disable=SC2086 # FIREWALL_PORTS is a space-separated list
mapfile -t blocked < <(firewall_problems "needed between nodes" $FIREWALL_PORTS)
problems+=("${blocked[@]}")

if swapon --noheadings --show=NAME | grep -q .; then
  log "swap is on; node preparation turns it off and keeps it off"
fi

product_uuid=$(cat "${HOST_ROOT}/sys/class/dmi/id/product_uuid" 2>/dev/null || echo unknown)
macs=()
for dev in "${HOST_ROOT}"/sys/class/net/*; do
  [[ -e "$dev/address" ]] || continue
  [[ "$(readlink "$dev" || true)" != */virtual/* ]] || continue
  mac=$(cat "$dev/address")
  [[ "$mac" == 00:00:00:00:00:00 ]] || macs+=("$mac")
done

if ((${#problems[@]} > 0)); then
  for p in "${problems[@]}"; do log "preflight: $p"; done
  die "${NODE_NAME} failed ${#problems[@]} preflight check(s)"
fi
mac_list=$(IFS=,; printf '%s' "${macs[*]}")
printf 'identity %s product_uuid=%s macs=%s\n' "$NODE_NAME" "$product_uuid" "$mac_list"
log "preflight passed: ${PRETTY_NAME}, ${cpus} CPUs, ${memory_mib} MiB, product_uuid ${product_uuid}, MACs ${mac_list:-none}"
