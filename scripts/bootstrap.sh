#!/usr/bin/env bash
# Set up a fresh clone: Debian packages, the Python 3.10 virtual environment
# and the project's packages. Safe to run again; it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium and chromium-driver: the console's browser tests (Playwright drives
# /usr/bin/chromium, so no browser download is needed). gcc and cmake: pip
# builds pocketsphinx from source (it has no wheel for Python 3.10).
DEBIAN_PACKAGES=(espeak-ng chromium chromium-driver gcc cmake)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Please install the missing Debian packages, then run this again:"
    echo "  sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

find_python() {
  for candidate in python3.10 "$HOME"/.pyenv/versions/3.10.*/bin/python3.10 \
      /usr/bin/python3.10 /usr/local/bin/python3.10; do
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' \
        >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  for version in $(pyenv versions --bare 2>/dev/null | grep '^3\.10' || true); do
    echo "$(pyenv root)/versions/$version/bin/python3.10"
    return
  done
  echo "Python 3.10 is needed (Rasa 3.6 runs on 3.8 to 3.10 only)." >&2
  exit 1
}

if [ ! -x .venv/bin/python ]; then
  python=$(find_python)
  echo "Creating .venv with $python"
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
