#!/usr/bin/env bash
# Install the Debian packages markwatch needs when they are missing: chromium (browser pages,
# screenshots), chromium-headless-shell (faster rendering, optional) and fonts-noto-cjk (Chinese
# text in screenshots). Idempotent; a no-op when all are present.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto 2>/dev/null | grep -qi cjk || need+=(fonts-noto-cjk)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "warning: missing Debian packages (${need[*]}); install them as root: apt-get install ${need[*]}" >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
echo "installing Debian packages: ${need[*]} chromium-headless-shell" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null || true
$SUDO apt-get install -y -q "${need[@]}" >/dev/null || { echo "warning: apt-get install ${need[*]} failed; browser features will be skipped" >&2; exit 0; }
# Optional, faster headless renderer; fine if the release does not have it.
$SUDO apt-get install -y -q chromium-headless-shell >/dev/null 2>&1 || true
