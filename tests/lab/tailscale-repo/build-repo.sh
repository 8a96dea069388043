#!/usr/bin/env bash
# Builds a small signed apt repository laid out like pkgs.tailscale.com/stable, so the
# Molecule scenario molecule/tailscale installs "Tailscale" with real apt, offline:
#
#   OUTDIR/DISTRO/CODENAME.noarmor.gpg                 the signing key, binary (Signed-By)
#   OUTDIR/DISTRO/dists/CODENAME/{Release,InRelease}   InRelease clearsigned with that key
#   OUTDIR/DISTRO/dists/CODENAME/main/binary-ARCH/Packages
#   OUTDIR/DISTRO/pool/main/t/tailscale/tailscale_VERSION_all.deb
#
# The tailscale package holds the repository's fake CLI (tests/fakes/tailscale_cli)
# and a stub tailscaled service. Its maintainer scripts do not enable the service (the real
# package does): the role has to. The key is thrown away with its temporary GnuPG home.
# Needs only gpg, dpkg-deb and coreutils.
#
# Usage: build-repo.sh OUTDIR DISTRO CODENAME ARCH   e.g. build-repo.sh /tmp/repo debian trixie amd64
set -euo pipefail
[ "$#" -eq 4 ] || { echo "usage: $0 OUTDIR DISTRO CODENAME ARCH" >&2; exit 2; }
out="$1" distro="$2" codename="$3" arch="$4"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fake="$here/../../fakes/tailscale_cli/fake_tailscale.py"
version="1.76.1-fake1"

work="$(mktemp -d)"
export GNUPGHOME="$work/gnupg"
cleanup() { gpgconf --kill gpg-agent 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -m 0700 "$GNUPGHOME"

# The package tree.
pkg="$work/pkg"
install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/sbin" "$pkg/usr/lib/tailscale-fake" \
    "$pkg/usr/lib/systemd/system" "$pkg/var/lib/tailscale"
install -m 0644 "$fake" "$pkg/usr/lib/tailscale-fake/fake_tailscale.py"
# The fake keeps its state where FAKE_TAILSCALE_STATE says; default it to tailscaled's directory.
cat >"$pkg/usr/bin/tailscale" <<'EOF'
#!/bin/sh
# Fake tailscale CLI (homelab.stack tests): state in tailscaled's state directory.
: "${FAKE_TAILSCALE_STATE:=/var/lib/tailscale/fake-state.json}"
export FAKE_TAILSCALE_STATE
exec python3 /usr/lib/tailscale-fake/fake_tailscale.py "$@"
EOF
cat >"$pkg/usr/sbin/tailscaled" <<'EOF'
#!/bin/sh
# Stub tailscaled (homelab.stack tests): a long-running process, nothing else.
exec sleep infinity
EOF
chmod 0755 "$pkg/usr/bin/tailscale" "$pkg/usr/sbin/tailscaled"
cat >"$pkg/usr/lib/systemd/system/tailscaled.service" <<'EOF'
[Unit]
Description=Tailscale node agent (stub for the homelab.stack tests)

[Service]
ExecStart=/usr/sbin/tailscaled
StateDirectory=tailscale

[Install]
WantedBy=multi-user.target
EOF
cat >"$pkg/DEBIAN/control" <<EOF
Package: tailscale
Version: $version
Architecture: all
Maintainer: homelab.stack maintainers <noreply@homelab.invalid>
Depends: python3
Section: net
Priority: optional
Description: fake Tailscale client for the homelab.stack tests
 The fake tailscale CLI of the homelab.stack collection and a stub tailscaled.
EOF

repo="$out/$distro"
pool="pool/main/t/tailscale"
packages="dists/$codename/main/binary-$arch/Packages"
install -d "$repo/$pool" "$repo/$(dirname "$packages")"
deb="$pool/tailscale_${version}_all.deb"
dpkg-deb --root-owner-group --build "$pkg" "$repo/$deb" >/dev/null

# Packages: the control stanza plus where the file is and its hashes.
{
    dpkg-deb --field "$repo/$deb"
    echo "Filename: $deb"
    echo "Size: $(stat -c %s "$repo/$deb")"
    echo "MD5sum: $(md5sum <"$repo/$deb" | cut -d' ' -f1)"
    echo "SHA256: $(sha256sum <"$repo/$deb" | cut -d' ' -f1)"
    echo
} >"$repo/$packages"

# Release lists the index with its SHA-256 (apt ignores weaker hashes alone).
release="$repo/dists/$codename/Release"
cat >"$release" <<EOF
Origin: homelab.stack tests
Label: tailscale (fake)
Suite: stable
Codename: $codename
Date: $(LC_ALL=C date -Ru)
Architectures: $arch
Components: main
Description: fake Tailscale repository for the homelab.stack tests
SHA256:
 $(sha256sum <"$repo/$packages" | cut -d' ' -f1) $(stat -c %s "$repo/$packages") main/binary-$arch/Packages
EOF

# A throwaway ed25519 key without passphrase; SHA-512 digests, which sqv (apt's verifier
# on Debian 13) accepts.
gpg() { command gpg --batch --quiet --pinentry-mode loopback --passphrase '' "$@"; }
gpg --quick-generate-key "homelab.stack test repository <noreply@homelab.invalid>" ed25519 sign never
gpg --export >"$repo/$codename.noarmor.gpg"
gpg --digest-algo SHA512 --clearsign --output "$repo/dists/$codename/InRelease" "$release"

# apt reads file: repositories as the unprivileged _apt user.
chmod -R a+rX "$out"
