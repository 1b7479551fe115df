#!/usr/bin/env bash
# The Debian package end to end (cmake/packaging.cmake, packaging/): build it with cpack from BUILD_DIR, install it
# with apt-get, check the user, the files and `vcp --version`, start vcp-agent and vcp-verifierd the way their units
# do, check /healthz answers, stop them, purge the package and check that everything it brought is gone.
#
#   tests/deb/deb_test.sh BUILD_DIR [CPACK]        (ctest: deb_package, label package; CPACK: the build's cpack)
#
# It installs into this system, so it needs root, apt-get and dpkg-deb: otherwise it is skipped (exit 77), and also
# when a package vcp is already installed (it would purge it). Without systemd as PID 1 (a container) each unit's
# ExecStart runs as the unit's User/Group with runuser; with systemd, systemctl starts the unit itself. The
# services listen on 127.0.0.1 port 0 (the port comes from their "listening" log line). Bounded: every wait has a
# limit, and the whole run stays well under ctest's 240 s.
set -euo pipefail

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

[[ $# -eq 1 || $# -eq 2 ]] || { echo "usage: $0 BUILD_DIR [CPACK]" >&2; exit 2; }
build=$(cd "$1" && pwd)
cpack=${2:-cpack}
[[ $(id -u) -eq 0 ]] || skip "needs root (it installs the package into this system)"
for tool in apt-get dpkg-deb dpkg "$cpack" runuser getent; do
  command -v "$tool" >/dev/null || skip "$tool not found"
done
# (No `cmd | grep -q` under pipefail anywhere: grep quitting early makes cmd die of SIGPIPE and the pipe "fail".)
pkg_status() { dpkg-query -W -f='${Status}' vcp 2>/dev/null || true; }
status=$(pkg_status)
[[ -z $status || $status == *not-installed ]] || skip "a package vcp is on this system ($status); not replacing it"
[[ -f $build/CPackConfig.cmake ]] ||
  fail "$build/CPackConfig.cmake missing: the top-level CMakeLists.txt must include cmake/packaging.cmake"

tmp=$(mktemp -d /tmp/vcp-deb-test.XXXXXX)
chmod 0755 "$tmp"
installed=0
user_existed=0
getent passwd vcp >/dev/null && user_existed=1
service_pids=()
cleanup() {
  local rc=$?
  for pid in "${service_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [[ $installed -eq 1 ]]; then
    rm -rf /etc/vcp/provider /etc/vcp/verifier /etc/vcp/authorized_keys
    DEBIAN_FRONTEND=noninteractive timeout 60 apt-get purge -y -q vcp >/dev/null 2>&1 || true
  fi
  # The package keeps its user on purge (packaging/postrm); a test that created it removes it again.
  if [[ $user_existed -eq 0 ]] && getent passwd vcp >/dev/null; then
    deluser --quiet --system vcp >/dev/null 2>&1 || userdel vcp 2>/dev/null || true
    if getent group vcp >/dev/null; then
      delgroup --quiet --system vcp >/dev/null 2>&1 || groupdel vcp 2>/dev/null || true
    fi
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT

step "cpack -G DEB"
if ! timeout 120 "$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1; then
  tail -n 30 "$tmp/cpack.log" >&2
  fail "cpack failed (is the build up to date? cmake --build $build)"
fi
debs=("$tmp"/pkg/vcp_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || fail "expected one vcp_*.deb in $tmp/pkg, found: ${debs[*]}"
deb=${debs[0]}
version=$(sed -n 's/^#define VCP_VERSION_STRING "\(.*\)"$/\1/p' "$(dirname "$0")/../../include/vcp/version.h")
[[ $(basename "$deb") == vcp_${version}_$(dpkg --print-architecture).deb ]] ||
  fail "package file $(basename "$deb"), expected vcp_${version}_$(dpkg --print-architecture).deb"

step "package metadata and contents"
control=$(dpkg-deb -f "$deb")
echo "$control" | grep -E '^(Package|Version|Depends):'
depends=$(dpkg-deb -f "$deb" Depends)
# dpkg-shlibdeps ran: the C and C++ runtimes, OpenSSL's libcrypto and libsodium are named with versions.
for dep in adduser 'libc6 (>=' 'libstdc++6 (>=' 'libssl3 (>=' 'libsodium23 (>='; do
  [[ $depends == *"$dep"* ]] || fail "Depends lacks '$dep': $depends"
done
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for path in ./usr/bin/vcp ./lib/systemd/system/vcp-agent.service ./lib/systemd/system/vcp-verifierd.service \
            ./etc/vcp/agent.json ./etc/vcp/verifierd.json; do
  grep -qx -- "$path" <<<"$contents" || fail "$path not in the package"
done
mkdir "$tmp/control"
dpkg-deb -e "$deb" "$tmp/control"
[[ $(cat "$tmp/control/conffiles") == $'/etc/vcp/agent.json\n/etc/vcp/verifierd.json' ]] ||
  fail "conffiles: $(cat "$tmp/control/conffiles")"
for script in postinst prerm postrm; do
  [[ -x $tmp/control/$script ]] || fail "control script $script missing or not executable"
done

step "apt-get install ./$(basename "$deb")"
installed=1
(cd "$tmp/pkg" && DEBIAN_FRONTEND=noninteractive timeout 120 apt-get install -y -q --no-install-recommends \
  "./$(basename "$deb")") >"$tmp/apt.log" 2>&1 || { tail -n 30 "$tmp/apt.log" >&2; fail "apt-get install failed"; }
[[ $(pkg_status) == 'install ok installed' ]] || fail "vcp not installed: $(pkg_status)"

step "user, files, vcp --version"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd vcp) || fail "no user vcp"
getent group vcp >/dev/null || fail "no group vcp"
[[ $(id -gn vcp) == vcp ]] || fail "user vcp's primary group is $(id -gn vcp), expected vcp"
[[ $uid -lt 1000 ]] || fail "user vcp has uid $uid: not a system user"
[[ $shell == */nologin || $shell == /bin/false ]] || fail "user vcp has the login shell $shell"
for dir in /var/lib/vcp-agent /var/lib/vcp-verifierd; do
  mode=$(stat -c '%U:%G %a' "$dir")
  [[ $mode == "vcp:vcp 700" ]] || fail "$dir is $mode, expected vcp:vcp 700"
done
for f in /usr/bin/vcp /lib/systemd/system/vcp-agent.service /lib/systemd/system/vcp-verifierd.service \
         /etc/vcp/agent.json /etc/vcp/verifierd.json; do
  [[ -f $f ]] || fail "$f not installed"
done
libs=$(ldd /usr/bin/vcp)
[[ $libs != *'not found'* ]] || fail "/usr/bin/vcp: $libs"
# The shared library, when the install rules ship it, must be found by the loader (the ldconfig trigger ran).
if [[ $(dpkg -L vcp) == *'/libvcp.so.'* ]]; then
  [[ $(ldconfig -p) == *'libvcp.so.'* ]] || fail "libvcp.so.* installed but not in the ldconfig cache"
fi
got=$(/usr/bin/vcp --version)
[[ $got == "vcp $version "* ]] || fail "vcp --version printed '$got', expected 'vcp $version ...'"
echo "$got"

# unit_key UNIT KEY: the value of KEY= in the installed unit (the last one, as systemd reads it).
unit_key() { sed -n "s/^$2=//p" "/lib/systemd/system/$1" | tail -n 1; }

# start_unit UNIT CONFIG_JSON: writes the config where the unit's ExecStart reads it, starts the unit's service,
# waits for its "listening" line and checks GET /healthz answers "ok"; then stops it and checks it exited 0.
start_unit() {
  local unit=$1 config_json=$2
  local exec user group state config log port pid=""
  exec=$(unit_key "$unit" ExecStart)
  user=$(unit_key "$unit" User)
  group=$(unit_key "$unit" Group)
  state=$(unit_key "$unit" StateDirectory)
  [[ $user == vcp && $group == vcp ]] || fail "$unit runs as $user:$group, expected vcp:vcp"
  [[ -d /var/lib/$state ]] || fail "$unit's StateDirectory /var/lib/$state does not exist"
  config=$(sed -n 's/.*--config \([^ ]*\).*/\1/p' <<<"$exec")
  [[ -n $config && -f $config ]] || fail "$unit: ExecStart '$exec' names no installed --config file"
  printf '%s\n' "$config_json" >"$config"
  log=$tmp/$unit.log
  local -a argv
  read -r -a argv <<<"$exec"
  if [[ $(cat /proc/1/comm) == systemd ]]; then
    timeout 30 systemctl start "$unit" || fail "systemctl start $unit failed"
  else
    # What systemd does for this unit: the ExecStart, as User/Group, with the unit's umask, stderr to the log.
    (umask "$(unit_key "$unit" UMask)"; exec runuser -u "$user" -g "$group" -- "${argv[@]}") 2>"$log" &
    pid=$!
    service_pids+=("$pid")
  fi
  for _ in $(seq 1 300); do
    if [[ -n $pid ]]; then
      kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "$unit exited before listening"; }
    else
      journalctl -q -o cat -u "$unit" >"$log" 2>/dev/null || true
    fi
    port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || { cat "$log" >&2; fail "$unit: no \"listening\" line within 30 s"; }
  local main=""
  if [[ -n $pid ]]; then
    # runuser forks the service and waits for it: the service is its child, as the unit's main process would be.
    main=$(pgrep -P "$pid" -x vcp) || fail "$unit: no vcp process under runuser $pid"
    service_pids+=("$main")
    [[ $(ps -o user= -p "$main" | tr -d ' ') == vcp ]] || fail "$unit runs as $(ps -o user= -p "$main"), expected vcp"
  fi
  local answer
  answer=$(timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$port"'
    printf "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" >&3; cat <&3') ||
    fail "$unit: GET /healthz on 127.0.0.1:$port failed"
  [[ $answer == 'HTTP/1.1 200 '* ]] || fail "$unit: /healthz answered: $answer"
  [[ $(tail -n 1 <<<"$answer") == ok ]] || fail "$unit: /healthz body is not 'ok': $answer"
  echo "$unit: /healthz on 127.0.0.1:$port answered 200 ok"
  if [[ -n $pid ]]; then
    # The unit's KillSignal goes to the main process, as systemd sends it; it stops gracefully and exits 0, and
    # runuser exits with its status.
    kill "-$(unit_key "$unit" KillSignal | sed 's/^SIG//')" "$main"
    local rc=0
    timeout "$(unit_key "$unit" TimeoutStopSec)" tail --pid="$pid" -f /dev/null || fail "$unit did not stop on SIGTERM"
    wait "$pid" || rc=$?
    [[ $rc -eq 0 ]] || { cat "$log" >&2; fail "$unit exited $rc after SIGTERM, expected 0"; }
  else
    timeout 70 systemctl stop "$unit" || fail "systemctl stop $unit failed"
    systemctl is-failed -q "$unit" && fail "$unit failed on stop"
  fi
  echo "$unit: stopped"
}

step "keys in /etc/vcp, where the example configs name them"
/usr/bin/vcp keygen --out /etc/vcp/provider >/dev/null
/usr/bin/vcp keygen --out /etc/vcp/verifier >/dev/null
cp /etc/vcp/verifier/vcp.pub /etc/vcp/authorized_keys
chown -R vcp:vcp /etc/vcp/provider /etc/vcp/verifier

step "vcp-agent.service"
start_unit vcp-agent.service '{"listen_host": "127.0.0.1", "listen_port": 0, "state_dir": "/var/lib/vcp-agent",
 "provider_key": "/etc/vcp/provider", "authorized_keys": "/etc/vcp/authorized_keys", "backend": "cpu", "threads": 1}'
step "vcp-verifierd.service"
start_unit vcp-verifierd.service '{"listen_host": "127.0.0.1", "listen_port": 0,
 "database": "/var/lib/vcp-verifierd/verifierd.sqlite", "verifier_key": "/etc/vcp/verifier", "verify_threads": 1}'
[[ -f /var/lib/vcp-verifierd/verifierd.sqlite ]] || fail "verifierd made no database in its state directory"

step "apt-get purge vcp"
rm -rf /etc/vcp/provider /etc/vcp/verifier /etc/vcp/authorized_keys
DEBIAN_FRONTEND=noninteractive timeout 60 apt-get purge -y -q vcp >"$tmp/purge.log" 2>&1 ||
  { tail -n 30 "$tmp/purge.log" >&2; fail "apt-get purge failed"; }
installed=0
status=$(pkg_status)
[[ -z $status || $status == *not-installed ]] || fail "after purge the package is still '$status'"
for path in /usr/bin/vcp /lib/systemd/system/vcp-agent.service /lib/systemd/system/vcp-verifierd.service /etc/vcp \
            /var/lib/vcp-agent /var/lib/vcp-verifierd; do
  [[ ! -e $path ]] || fail "$path still exists after purge"
done
# Every file the package shipped is gone (directories such as /usr/lib are shared with other packages).
while read -r path; do
  path=${path#.}
  [[ $path == */ || -z $path ]] && continue
  [[ ! -e $path || -d $path ]] || fail "$path (from the package) still exists after purge"
done < <(dpkg-deb -c "$deb" | awk '{print $6}')
echo "PASS: vcp package built, installed, both services answered /healthz, purged"
