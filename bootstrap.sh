#!/usr/bin/env bash
# bootstrap.sh: get a macOS or Linux machine ready for devenv, in one command.
#
# It installs what is missing (PostgreSQL, Redis, Python >= 3.11) with the
# machine's package manager, creates .venv in this checkout and installs devenv
# there from the pinned requirements.lock (requirements-test.lock, which adds the
# test tools, for `./bootstrap.sh test`), then starts the demo project.
# Running it again is quick and changes nothing when everything is in place.
#
# Written for bash 3.2 too (macOS's /bin/bash): no associative arrays, and no
# expansion of possibly empty arrays under `set -u`.
set -euo pipefail
shopt -s nullglob

ROOT_GIVEN="${DEVENV_BOOTSTRAP_ROOT:-$(dirname "${BASH_SOURCE[0]}")}"
ROOT="$(cd "$ROOT_GIVEN" 2>/dev/null && pwd)" ||
  { echo "error: cannot enter the devenv checkout '$ROOT_GIVEN'" >&2; exit 1; }
VENV="$ROOT/.venv"
STAMP_FILE="$VENV/.bootstrap-stamp"
MIN_PYTHON_MINOR=11 # Python 3.11 or newer
RUNTIME_LOCK="requirements.lock"   # devenv's dependencies, pinned with hashes
TEST_LOCK="requirements-test.lock" # the same pins plus the test tools
LOCK="$RUNTIME_LOCK"               # the one this run installs
# Prefixed to every fixed system path the script looks in: tests stand a folder
# in for / (empty, or with stub binaries laid out as in the real folders).
SYSROOT="${DEVENV_BOOTSTRAP_SYSROOT:-}"

OS=""           # Linux or Darwin
PKG=""          # apt-get, dnf or brew, found when something has to be installed
BREW="brew"     # the brew command (Homebrew is not always on PATH yet)
APT_UPDATED=""  # non-empty once `apt-get update` has run
CHANGED=""      # non-empty once anything was installed or created
PYTHON=""       # the Python used to create .venv
PYTHON_VERSION=""

usage() {
  cat <<'EOF'
Usage: ./bootstrap.sh [setup | test [PYTEST ARGS...] | help]

Gets this machine ready for devenv: installs PostgreSQL, Redis and Python 3.11+
when they are missing (apt-get or dnf on Linux, Homebrew on macOS), creates .venv
in this checkout and installs devenv there from requirements.lock. Then:

  ./bootstrap.sh               copies the demo project out (once) and runs `devenv up` in it
  ./bootstrap.sh setup         stops after the set-up
  ./bootstrap.sh test [ARGS]   installs from requirements-test.lock instead (adding the test
                               tools), also installs git, tmux, shellcheck and memcached,
                               then runs the test suite (.venv/bin/python -m pytest ARGS)

Running it again is quick: it only installs what is missing or changed.

Environment:
  DEVENV_DEMO_DIR           where the demo project goes (default: <checkout>/.devenv/demo)
  DEVENV_BOOTSTRAP_ROOT     the devenv checkout to set up (default: this script's directory)
  DEVENV_BOOTSTRAP_SYSROOT  for testing the script: a folder standing in for / (default: empty)
  NO_COLOR                  set it to turn colours off
EOF
}

# --- output -------------------------------------------------------------------

c_step="" c_err="" c_reset=""
if [[ -z "${NO_COLOR:-}" ]]; then
  if [[ -t 1 ]]; then c_step=$'\033[1;34m' c_reset=$'\033[0m'; fi
  if [[ -t 2 ]]; then c_err=$'\033[1;31m' c_reset=$'\033[0m'; fi
fi

say() { printf '%s==>%s %s\n' "$c_step" "$c_reset" "$*"; }

# die LINE [LINE...]: print an error (the first line, then details) and exit 1.
die() {
  printf '%serror:%s %s\n' "$c_err" "$c_reset" "$1" >&2
  shift
  local line
  for line in "$@"; do printf '  %s\n' "$line" >&2; done
  exit 1
}

# --- the machine --------------------------------------------------------------

detect_os() {
  OS="$(uname -s)"
  case "$OS" in
    Linux | Darwin) ;;
    *)
      die "unsupported OS '$OS': devenv's bootstrap supports Linux (apt or dnf) and macOS (Homebrew); install PostgreSQL and Redis yourself, then: python3 -m venv .venv && .venv/bin/pip install -r requirements.lock && .venv/bin/pip install --no-deps -e ."
      ;;
  esac
}

# find_package_manager WHAT: sets PKG, or explains why WHAT cannot be installed.
find_package_manager() {
  [[ -n "$PKG" ]] && return 0
  if [[ "$OS" == Darwin ]]; then
    local candidate
    for candidate in brew "$SYSROOT/opt/homebrew/bin/brew" "$SYSROOT/usr/local/bin/brew"; do
      if command -v "$candidate" >/dev/null 2>&1; then
        BREW="$(command -v "$candidate")"
        # A fresh Homebrew is often not on PATH yet; what it installs must be.
        PATH="$(dirname "$BREW"):$PATH"
        PKG=brew
        return 0
      fi
    done
    die "Homebrew is needed to install $1 on macOS, and 'brew' was not found." \
      "Install Homebrew from https://brew.sh, then re-run ./bootstrap.sh."
  fi
  if command -v apt-get >/dev/null 2>&1; then
    PKG="apt-get"
  elif command -v dnf >/dev/null 2>&1; then
    PKG=dnf
  else
    die "no supported package manager found to install $1: devenv's bootstrap uses apt-get or dnf on Linux." \
      "Install $1 with your distribution's package manager, then re-run ./bootstrap.sh."
  fi
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# as_root COMMAND...: run a system package command as root (sudo when needed).
as_root() {
  if is_root; then "$@"; else sudo "$@"; fi
}

# need_root WHAT COMMAND-LINE: stop, saying what to run, when neither root nor sudo is available.
need_root() {
  is_root && return 0
  command -v sudo >/dev/null 2>&1 && return 0
  die "installing $1 needs root: you are not root and sudo was not found." \
    "Run this as root, then re-run ./bootstrap.sh:" \
    "    $2"
}

# Debian's postgresql package creates and starts a system-wide cluster on port
# 5432; devenv runs its own per-project servers and does not need it. Before
# postgresql-common is first installed, its config can say not to.
skip_debian_main_cluster() {
  local dir="$SYSROOT/etc/postgresql-common"
  [[ -e "$dir/createcluster.conf" ]] && return 0
  say "asking Debian's postgresql-common not to create a system cluster on port 5432"
  # shellcheck disable=SC2016 # $1 is expanded by sh -c
  as_root sh -c 'mkdir -p "$1" && echo "create_main_cluster = false" >"$1/createcluster.conf"' \
    sh "$dir"
}

# pkg_install WHAT PACKAGES: install PACKAGES (names for this package manager).
pkg_install() {
  local what="$1" packages
  read -r -a packages <<<"$2"
  case "$PKG" in
    brew)
      say "installing $what with brew"
      "$BREW" install "${packages[@]}" || die "brew install ${packages[*]} failed (see above)."
      ;;
    apt-get)
      need_root "$what" "apt-get update && apt-get install -y --no-install-recommends ${packages[*]}"
      say "installing $what with apt-get"
      if [[ -z "$APT_UPDATED" ]]; then
        as_root apt-get update || die "apt-get update failed (see above)."
        APT_UPDATED=1
      fi
      if [[ " ${packages[*]} " == *" postgresql "* ]]; then skip_debian_main_cluster; fi
      as_root env DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 \
        apt-get install -y --no-install-recommends "${packages[@]}" ||
        die "apt-get install ${packages[*]} failed (see above)."
      ;;
    dnf)
      need_root "$what" "dnf install -y ${packages[*]}"
      say "installing $what with dnf"
      as_root dnf install -y "${packages[@]}" || die "dnf install ${packages[*]} failed (see above)."
      ;;
  esac
  CHANGED=1
}

# --- PostgreSQL and Redis -----------------------------------------------------

# find_initdb: print where PostgreSQL's initdb is; fail when it is nowhere.
find_initdb() {
  local candidate
  if command -v initdb 2>/dev/null; then return 0; fi
  if [[ "$OS" == Darwin ]]; then
    set -- "$SYSROOT"/opt/homebrew/opt/postgresql@*/bin/initdb \
      "$SYSROOT"/usr/local/opt/postgresql@*/bin/initdb \
      "$SYSROOT"/Applications/Postgres.app/Contents/Versions/*/bin/initdb
  else
    set -- "$SYSROOT"/usr/lib/postgresql/*/bin/initdb "$SYSROOT"/usr/pgsql-*/bin/initdb
  fi
  for candidate in "$@"; do
    if [[ -x "$candidate" ]]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

find_redis_server() {
  local candidate
  if command -v redis-server 2>/dev/null; then return 0; fi
  for candidate in "$SYSROOT/opt/homebrew/bin/redis-server" "$SYSROOT/usr/local/bin/redis-server"; do
    if [[ -x "$candidate" ]]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

ensure_services() {
  local found what="" apt="" dnf="" brew=""
  if found="$(find_initdb)"; then
    say "PostgreSQL found: $found"
  else
    what="PostgreSQL" apt="postgresql" dnf="postgresql-server" brew="postgresql@16"
  fi
  if found="$(find_redis_server)"; then
    say "Redis found: $found"
  else
    what="${what:+$what and }Redis"
    apt="${apt:+$apt }redis-server" dnf="${dnf:+$dnf }redis" brew="${brew:+$brew }redis"
  fi
  [[ -z "$what" ]] && return 0

  find_package_manager "$what"
  case "$PKG" in
    apt-get) pkg_install "$what" "$apt" ;;
    dnf) pkg_install "$what" "$dnf" ;;
    brew) pkg_install "$what" "$brew" ;;
  esac
}

# --- Python and .venv ---------------------------------------------------------

# python_version PYTHON [venv]: print PYTHON's "major.minor"; with "venv", fail
# (after printing) when it cannot create virtual environments (Debian and
# Ubuntu ship ensurepip separately, in python3-venv).
python_version() {
  local code='import sys; print("%d.%d" % sys.version_info[:2])'
  if [[ "${2:-}" == venv ]]; then code="$code; import ensurepip, venv"; fi
  "$1" -c "$code" 2>/dev/null
}

# version_ok VERSION: is "major.minor" Python 3.11 or newer?
version_ok() {
  [[ "$1" =~ ^([0-9]+)\.([0-9]+)$ ]] || return 1
  [[ "${BASH_REMATCH[1]}" -eq 3 && "${BASH_REMATCH[2]}" -ge "$MIN_PYTHON_MINOR" ]]
}

# find_python: set PYTHON and PYTHON_VERSION to the first usable Python >= 3.11.
find_python() {
  local candidate version
  for candidate in python3.13 python3.12 python3.11 python3; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    if version="$(python_version "$candidate" venv)" && version_ok "$version"; then
      PYTHON="$(command -v "$candidate")"
      PYTHON_VERSION="$version"
      return 0
    fi
  done
  return 1
}

ensure_python() {
  if find_python; then
    say "Python $PYTHON_VERSION found: $PYTHON"
    return 0
  fi
  find_package_manager "Python 3.$MIN_PYTHON_MINOR or newer"
  case "$PKG" in
    apt-get) pkg_install "Python 3" "python3 python3-venv" ;;
    dnf) pkg_install "Python 3" "python3" ;;
    brew) pkg_install "Python 3.12" "python@3.12" ;;
  esac
  find_python || die "devenv needs Python 3.$MIN_PYTHON_MINOR or newer (with venv), and none was found (tried python3.13, python3.12, python3.11, python3)." \
    "Install Python 3.$MIN_PYTHON_MINOR or newer (python.org, pyenv or your package manager), then re-run ./bootstrap.sh."
  say "Python $PYTHON_VERSION found: $PYTHON"
}

# compute_stamp FILE...: changes when the files (the locks) or devenv's metadata change.
compute_stamp() {
  local sum
  if command -v sha256sum >/dev/null 2>&1; then
    sum="$(cat "$@" pyproject.toml | sha256sum)"
  else
    sum="$(cat "$@" pyproject.toml | shasum -a 256)"
  fi
  echo "${sum%% *}"
}

# The stamp of a venv installed from the test lock covers the runtime lock too.
runtime_stamp() { compute_stamp "$RUNTIME_LOCK"; }
test_stamp() { compute_stamp "$RUNTIME_LOCK" "$TEST_LOCK"; }

# up_to_date: is .venv installed from $LOCK as it is now? The test lock pins the runtime
# lock's versions (it is compiled with it as constraints), so a venv installed from it
# is up to date for a set-up too.
up_to_date() {
  local installed
  [[ -f "$STAMP_FILE" && -x "$VENV/bin/devenv" ]] || return 1
  installed="$(<"$STAMP_FILE")"
  if [[ "$LOCK" == "$TEST_LOCK" ]]; then
    [[ "$installed" == "$(test_stamp)" ]]
  else
    [[ "$installed" == "$(runtime_stamp)" ]] ||
      [[ -f "$TEST_LOCK" && "$installed" == "$(test_stamp)" ]]
  fi
}

ensure_venv() {
  local version stamp file
  if [[ -x "$VENV/bin/python" ]]; then
    version="$(python_version "$VENV/bin/python")" ||
      die "$VENV exists but its Python does not run." "Remove it (rm -rf .venv) and re-run ./bootstrap.sh."
    version_ok "$version" ||
      die "$VENV uses Python $version; devenv needs 3.$MIN_PYTHON_MINOR or newer." \
        "Remove it (rm -rf .venv) and re-run ./bootstrap.sh."
    say "Python $version in .venv"
  else
    [[ -e "$VENV" ]] &&
      die "$VENV exists but has no bin/python." "Remove it (rm -rf .venv) and re-run ./bootstrap.sh."
    ensure_python
    say "creating .venv with Python $PYTHON_VERSION"
    "$PYTHON" -m venv "$VENV" || die "could not create $VENV with $PYTHON (see above)."
    CHANGED=1
  fi

  for file in "$RUNTIME_LOCK" "$LOCK" pyproject.toml; do
    [[ -f "$file" ]] || die "$file is missing in $ROOT: is this a devenv checkout?"
  done
  if up_to_date; then
    say "devenv in .venv is up to date with $LOCK"
    return 0
  fi
  if [[ "$LOCK" == "$TEST_LOCK" ]]; then stamp="$(test_stamp)"; else stamp="$(runtime_stamp)"; fi
  say "installing devenv and its pinned dependencies into .venv from $LOCK"
  "$VENV/bin/pip" install --require-hashes -r "$LOCK" ||
    die "pip install -r $LOCK failed (see above)."
  "$VENV/bin/pip" install --no-deps -e . || die "pip install --no-deps -e . failed (see above)."
  printf '%s\n' "$stamp" >"$STAMP_FILE"
  CHANGED=1
}

setup() {
  detect_os
  ensure_services
  ensure_venv
  if [[ -n "$CHANGED" ]]; then
    say "set-up done"
  else
    say "everything is up to date, nothing to do"
  fi
}

# The test suite also drives real git, tmux, shellcheck and memcached.
ensure_test_tools() {
  local missing="" names="" tool
  for tool in git tmux shellcheck memcached; do
    command -v "$tool" >/dev/null 2>&1 || missing="${missing:+$missing }$tool"
  done
  if [[ -z "$missing" ]]; then
    say "git, tmux, shellcheck and memcached found"
    return 0
  fi
  find_package_manager "$missing"
  # Package names are the command names, except Fedora's ShellCheck.
  for tool in $missing; do
    if [[ "$PKG" == dnf && "$tool" == shellcheck ]]; then tool=ShellCheck; fi
    names="${names:+$names }$tool"
  done
  pkg_install "$missing" "$names"
}

main() {
  case "${1:-}" in
    -h | --help | help)
      usage
      return 0
      ;;
    setup)
      [[ $# -eq 1 ]] || { usage >&2; return 2; }
      cd "$ROOT"
      setup
      ;;
    test)
      shift
      cd "$ROOT"
      LOCK="$TEST_LOCK"
      setup
      ensure_test_tools
      say "running the test suite: .venv/bin/python -m pytest $*"
      exec "$VENV/bin/python" -m pytest ${1+"$@"}
      ;;
    "")
      [[ $# -eq 0 ]] || { usage >&2; return 2; }
      cd "$ROOT"
      setup
      local demo="${DEVENV_DEMO_DIR:-$ROOT/.devenv/demo}"
      if [[ ! -d "$demo" ]]; then
        say "copying the demo project to $demo"
        "$VENV/bin/devenv" demo "$demo" || die "could not copy the demo project to $demo (see above)."
      fi
      say "starting devenv in $demo"
      cd "$demo"
      # devenv makes the demo's own virtualenv from its lockfile on the first `up`.
      exec "$VENV/bin/devenv" up
      ;;
    *)
      printf 'unknown command: %s\n\n' "$1" >&2
      usage >&2
      return 2
      ;;
  esac
}

main "$@"
