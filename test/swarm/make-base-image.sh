#!/usr/bin/env bash
# Builds a stand-in for the official node image from this machine's own Node
# runtime, npm and CA bundle, because no image registry is reachable here.
# The project's Dockerfile takes it through ARG NODE_IMAGE. Idempotent.
#   usage: test/swarm/make-base-image.sh [tag]   (default: portero-node-base:local)
set -euo pipefail
tag=${1:-portero-node-base:local}
if docker image inspect "$tag" >/dev/null 2>&1; then echo "$tag exists"; exit 0; fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
node_bin=$(readlink -f "$(command -v node)")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")   # .../lib/node_modules/npm
busybox=$(command -v busybox)
ca=/etc/ssl/certs/ca-certificates.crt

mkdir -p "$root"/usr/bin "$root"/usr/lib/node_modules "$root"/bin "$root"/etc/ssl/certs "$root"/tmp "$root"/root "$root"/app
chmod 1777 "$root"/tmp
cp "$node_bin" "$root"/usr/bin/node
cp -a "$npm_dir" "$root"/usr/lib/node_modules/npm
printf '#!/bin/sh\nexec /usr/bin/node /usr/lib/node_modules/npm/bin/npm-cli.js "$@"\n' >"$root"/usr/bin/npm
printf '#!/bin/sh\nexec /usr/bin/node /usr/lib/node_modules/npm/bin/npx-cli.js "$@"\n' >"$root"/usr/bin/npx
chmod +x "$root"/usr/bin/npm "$root"/usr/bin/npx
# busybox as /bin/sh (RUN steps) plus the few applets npm scripts use.
cp "$busybox" "$root"/bin/busybox
for applet in sh ls cat cp mv rm mkdir env; do ln -s busybox "$root/bin/$applet"; done
ln -s /bin/busybox "$root"/usr/bin/env   # for "#!/usr/bin/env node" scripts
# Shared libraries of node (uWebSockets.js needs a subset of the same).
for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp "$ca" "$root"/etc/ssl/certs/ca-certificates.crt
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n' >"$root"/etc/passwd
printf 'root:x:0:\nnode:x:1000:\n' >"$root"/etc/group
# npm's registry setting, so `npm ci` in a build reaches the same registry this machine uses.
registry=$(npm config get registry)
printf 'registry=%s\n' "$registry" >"$root"/root/.npmrc

tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV HOME=/root' \
  --change 'WORKDIR /app' \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
echo "built $tag"
