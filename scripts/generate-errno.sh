#!/usr/bin/env bash
# Regenerate the errno table of src/errno.ts (between its GENERATED markers) from glibc's
# strerrorname_np(3)/strerrordesc_np(3): Linux errno numbers, glibc names and texts.
# Needs gcc and glibc >= 2.32. Usage: scripts/generate-errno.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/errno.c" <<'C'
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
int main(void) {
  for (int i = 1; i <= 133; i++) {
    const char *name = strerrorname_np(i), *text = strerrordesc_np(i);
    if (name == NULL) printf("  undefined, // %d\n", i);
    else printf("  ['%s', '%s'], // %d\n", name, text, i);
  }
  return 0;
}
C
gcc -o "$tmp/errno" "$tmp/errno.c"
"$tmp/errno" >"$tmp/table"
awk -v table="$tmp/table" '
  /\/\/ END GENERATED/ { skipping = 0 }
  !skipping { print }
  /\/\/ BEGIN GENERATED/ { while ((getline line < table) > 0) print line; skipping = 1 }
' src/errno.ts >"$tmp/errno.ts"
mv "$tmp/errno.ts" src/errno.ts
echo "src/errno.ts: table regenerated ($(wc -l <"$tmp/table") entries)"
