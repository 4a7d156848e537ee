#!/usr/bin/env bash
# Installs a fully bundled @earendil-works/pi-coding-agent (1.x) into a test-only prefix, the way pi-compat.md §5
# describes: the registry cannot resolve its @earendil-works siblings at 1.x, but the CLI and SDK bundles
# (dist/bundle/cli.js, dist/bundle/index.js) import none of them, so we install only the third-party deps and
# drop the tarball in by hand. pi-ai and pi-agent-core are unpacked next to it for type-checking only.
#
# Usage: bash test/pi-latest/install.sh VERSION TARGET_DIR      e.g. 1.5.2 test/pi-latest/pi
# Idempotent: a TARGET_DIR that already holds VERSION (and its types) is left as it is.
set -euo pipefail

version="${1:?usage: install.sh VERSION TARGET_DIR}"
target="${2:?usage: install.sh VERSION TARGET_DIR}"
scope_dir="$target/node_modules/@earendil-works"
marker="$target/.installed-version"

if [[ -f "$marker" && "$(cat "$marker")" == "$version" && -f "$scope_dir/pi-coding-agent/dist/bundle/cli.js" ]]; then
  echo "pi-latest: @earendil-works/pi-coding-agent@$version already installed in $target"
  exit 0
fi

mkdir -p "$target"
target="$(cd "$target" && pwd)"
scope_dir="$target/node_modules/@earendil-works"
marker="$target/.installed-version"
work="$(mktemp -d "${TMPDIR:-/tmp}/pi-latest-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Fetch the three tarballs first, so a failed download leaves any previous install untouched.
for name in pi-coding-agent pi-ai pi-agent-core; do
  tarball="$(cd "$work" && npm pack "@earendil-works/$name@$version" --silent)"
  mkdir -p "$work/$name"
  tar xzf "$work/$tarball" -C "$work/$name"
done

# The bundle's third-party deps only: every @earendil-works/* is inlined, and so is lovely-mermaid.
node -e '
  const manifest = require(process.argv[1]);
  const dependencies = {};
  for (const [name, range] of Object.entries(manifest.dependencies ?? {}))
    if (!name.startsWith("@earendil-works/") && name !== "lovely-mermaid") dependencies[name] = range;
  require("fs").writeFileSync(process.argv[2],
    JSON.stringify({ name: "pi-latest", private: true, dependencies }, null, 2) + "\n");
' "$work/pi-coding-agent/package/package.json" "$target/package.json"

rm -f "$marker"
(cd "$target" && npm install --no-audit --no-fund --loglevel=error)

mkdir -p "$scope_dir"
for name in pi-coding-agent pi-ai pi-agent-core; do
  rm -rf "${scope_dir:?}/$name"
  mv "$work/$name/package" "$scope_dir/$name"
done
echo "$version" > "$marker"
echo "pi-latest: installed @earendil-works/pi-coding-agent@$version (+ pi-ai, pi-agent-core types) in $target"
