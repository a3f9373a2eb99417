#!/usr/bin/env bash
# Compiles TestToken.sol with solc 0.8.37 (solcjs from the npm registry) in a
# temporary directory and writes TestToken.abi and TestToken.bin beside it,
# which package contracts embeds. Go tests never need node: rerun this only
# after changing the Solidity source, and commit the outputs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm init -y >/dev/null
npm install --silent solc@0.8.37
npx solcjs --optimize --optimize-runs 200 --abi --bin -o "$tmp/build" "$here/TestToken.sol" --base-path "$here"
cp "$tmp"/build/*TestToken.abi "$here/TestToken.abi"
cp "$tmp"/build/*TestToken.bin "$here/TestToken.bin"
echo "wrote $here/TestToken.abi $here/TestToken.bin"
