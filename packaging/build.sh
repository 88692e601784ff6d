#!/usr/bin/env bash
# Build the one-folder application dist/cervix-studio/ with PyInstaller from the
# project's virtual environment, add the installer and desktop files, and say
# how large it is.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-.venv/bin}
APP=dist/cervix-studio
start=$(date +%s)
"$BIN/pyinstaller" --noconfirm --log-level "${PYINSTALLER_LOG_LEVEL:-WARN}" \
    --distpath dist --workpath build/pyinstaller packaging/cervix-studio.spec

# What a lab's IT needs to install the folder travels inside it.
mkdir -p "$APP/share"
cp packaging/linux/cervix-studio.desktop \
    packaging/linux/org.cervixstudio.CervixStudio.metainfo.xml "$APP/share/"
cp packaging/linux/install.sh "$APP/install.sh"

echo "Built $APP/ in $(($(date +%s) - start)) s:"
du -sh "$APP"
