# Sourced by the .ci/install-*.sh scripts: apt_install TAG PACKAGE... installs Debian packages
# non-interactively as root (or with sudo -n). Without root or sudo it returns 2, so the caller can
# say which tests will skip.
apt_install() {
    local tag=$1
    shift
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo -n"
        else
            echo "$tag: not root and no sudo; not installing $*" >&2
            return 2
        fi
    fi
    echo "$tag: installing Debian's $*"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
