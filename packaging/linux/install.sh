#!/usr/bin/env bash
# Install the built Cervix Studio folder on a Linux workstation: the folder to
# /opt/cervix-studio (or ~/.local/opt/cervix-studio with --user), the two
# commands on PATH, the menu entry, the icon and the AppStream metadata.
# Run it from inside the built folder:  sudo ./install.sh   or  ./install.sh --user
# `--uninstall` (with or without --user) removes what it installed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
NAME=cervix-studio
APP_ID=org.cervixstudio.CervixStudio
MODE=system
ACTION=install
for argument in "$@"; do
    case $argument in
        --user) MODE=user ;;
        --uninstall) ACTION=uninstall ;;
        -h | --help)
            sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "install.sh: unknown option $argument (use --user, --uninstall)" >&2
            exit 2
            ;;
    esac
done

if [ "$MODE" = system ]; then
    PREFIX=/opt/$NAME BIN=/usr/local/bin SHARE=/usr/share
    if [ "$(id -u)" -ne 0 ]; then
        echo "install.sh: a system install needs root: run it with sudo," \
            "or use --user to install for yourself alone" >&2
        exit 1
    fi
else
    PREFIX=$HOME/.local/opt/$NAME BIN=$HOME/.local/bin
    SHARE=${XDG_DATA_HOME:-$HOME/.local/share}
fi

refresh_caches() {
    command -v update-desktop-database >/dev/null &&
        update-desktop-database -q "$SHARE/applications" || true
    command -v gtk-update-icon-cache >/dev/null &&
        gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" || true
}

if [ "$ACTION" = uninstall ]; then
    rm -rf "$PREFIX"
    rm -f "$BIN/cervix-studio" "$BIN/cervix" \
        "$SHARE/applications/$NAME.desktop" "$SHARE/metainfo/$APP_ID.metainfo.xml" \
        "$SHARE/icons/hicolor/scalable/apps/$NAME.svg" \
        "$SHARE"/icons/hicolor/*/apps/$NAME.png
    refresh_caches
    echo "Cervix Studio removed from $PREFIX (user data and settings are kept)"
    exit 0
fi

if [ ! -x "$HERE/cervix-studio" ] || [ ! -d "$HERE/share" ]; then
    echo "install.sh: $HERE is not a built Cervix Studio folder; run the" \
        "install.sh inside it (dist/cervix-studio/install.sh after make package)" >&2
    exit 1
fi

echo "Installing Cervix Studio to $PREFIX"
if [ "$HERE" != "$PREFIX" ]; then
    rm -rf "$PREFIX.new"
    mkdir -p "$(dirname "$PREFIX")"
    cp -a "$HERE" "$PREFIX.new"
    rm -rf "$PREFIX"
    mv "$PREFIX.new" "$PREFIX"
fi

mkdir -p "$BIN" "$SHARE/applications" "$SHARE/metainfo"
ln -sfn "$PREFIX/cervix-studio" "$BIN/cervix-studio"
ln -sfn "$PREFIX/cervix" "$BIN/cervix"

# The menu entry starts the installed program by its full path, so it works
# even where the desktop session's PATH lacks ~/.local/bin.
sed -e "s|^Exec=cervix-studio|Exec=$PREFIX/cervix-studio|" \
    -e "s|^TryExec=cervix-studio|TryExec=$PREFIX/cervix-studio|" \
    "$HERE/share/$NAME.desktop" >"$SHARE/applications/$NAME.desktop"
cp "$HERE/share/$APP_ID.metainfo.xml" "$SHARE/metainfo/"

ICONS=$HERE/_internal/resources/icons
for png in "$ICONS"/$NAME-*.png; do
    size=${png##*-}
    size=${size%.png}
    mkdir -p "$SHARE/icons/hicolor/${size}x${size}/apps"
    cp "$png" "$SHARE/icons/hicolor/${size}x${size}/apps/$NAME.png"
done
mkdir -p "$SHARE/icons/hicolor/scalable/apps"
cp "$ICONS/$NAME.svg" "$SHARE/icons/hicolor/scalable/apps/$NAME.svg"
refresh_caches

echo "Installed: $BIN/cervix-studio (window), $BIN/cervix (command line)," \
    "and Cervix Studio in the desktop's menu"
