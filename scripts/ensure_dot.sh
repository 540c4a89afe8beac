#!/usr/bin/env sh
# Make sure graphviz's `dot` program is on PATH: install Debian's `graphviz` package when
# we may (root, or passwordless sudo); otherwise say how to install it and carry on
# (drawing to DOT source still works without it; rendering needs it).
if command -v dot >/dev/null 2>&1; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
    if [ "$SUDO" != "none" ]; then
        echo "graphviz's dot is missing: installing Debian's graphviz package"
        $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq graphviz >/dev/null \
            && command -v dot >/dev/null 2>&1 && exit 0
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
