#!/bin/sh
# Make the import fixtures in this directory: the CSV files and the openpyxl
# workbooks (make-fixtures.py), and a workbook written by LibreOffice Calc,
# converted from one openpyxl made. The results are committed, so that the
# tests need neither tool.
#
# Needs: python3-openpyxl and libreoffice-calc-nogui (Debian packages).
set -eu
cd "$(dirname "$0")"
/usr/bin/python3 make-fixtures.py --libreoffice-sources
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Through ODS and back, so that the XLSX is LibreOffice's own writing, not
# openpyxl's parts carried over.
soffice --headless -env:UserInstallation=file://"$tmp"/profile --convert-to ods --outdir "$tmp" libreoffice-src.xlsx >/dev/null
soffice --headless -env:UserInstallation=file://"$tmp"/profile --convert-to xlsx --outdir "$tmp" "$tmp"/libreoffice-src.ods >/dev/null
mv "$tmp"/libreoffice-src.xlsx libreoffice.xlsx
rm -f libreoffice-src.xlsx
