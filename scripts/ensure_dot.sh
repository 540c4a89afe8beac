#!/usr/bin/env sh
# Make sure graphviz's `dot` program is on PATH: install Debian's `graphviz` package when
# we may (root, or passwordless sudo); otherwise say how to install it and carry on
# (drawing to DOT source still works without it; rendering needs it). An install that was
# tried and failed is an error under CI (the rendering tests would only skip).
if command -v dot >/dev/null 2>&1; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
    if [ "$SUDO" != "none" ]; then
        echo "graphviz's dot is missing: installing Debian's graphviz package"
        # env, not a prefix assignment: sudo would drop the variable before apt-get runs
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
            && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
        status=$?
        if [ "$status" = "0" ] && command -v dot >/dev/null 2>&1; then
            exit 0
        fi
        if [ "$status" = "0" ]; then
            echo "ERROR: Debian's graphviz package is installed, but dot is not on PATH" >&2
        else
            echo "ERROR: installing Debian's graphviz package failed (apt-get exit status $status; see above)" >&2
        fi
        if [ -n "${CI:-}" ]; then
            exit 1
        fi
    fi
fi
cat >&2 <<'MSG'
WARNING: graphviz's `dot` program is not installed, so graphs cannot be rendered to SVG/PNG
(viz still builds their DOT source). Install it with one of:
    Debian/Ubuntu:  sudo apt-get install graphviz
    macOS:          brew install graphviz
    conda:          conda install -c conda-forge graphviz
MSG
exit 0
