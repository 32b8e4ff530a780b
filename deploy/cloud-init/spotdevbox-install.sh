#!/bin/bash
# Installs and starts the SpotDevBox agent on the first boot of a box's instance. The box's user data
# (user-data.yaml.template) writes this file to /usr/local/sbin/spotdevbox-install and cloud-init's
# runcmd runs it once per instance, with the box's values as arguments (no shell in between). Its
# output is in /var/log/cloud-init-output.log and in the journal (journalctl -t spotdevbox-install).
# See deploy/README.md, "The box's user data".
set -euo pipefail

log() {
    echo "spotdevbox-install: $*"
    logger -t spotdevbox-install -- "$*" 2> /dev/null || true
}

fail() {
    log "FAILED: $*"
    exit 1
}

# Tests run this script under a scratch directory, with stand-ins for apt-get, aws and systemctl.
root="${SPOTDEVBOX_INSTALL_ROOT:-}"
nologin="$root/run/nologin"
opt="$root/opt/spotdevbox"

bucket="" key="" sha256="" arch="" region="" user="" docker="no"
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || fail "$1 needs a value"
    case "$1" in
        --bucket) bucket="$2" ;;
        --key) key="$2" ;;
        --sha256) sha256="$2" ;;
        --arch) arch="$2" ;;
        --region) region="$2" ;;
        --user) user="$2" ;;
        --docker) docker="$2" ;;
        *) fail "unknown argument $1" ;;
    esac
    shift 2
done
[[ -n "$bucket" && -n "$key" && -n "$region" ]] || fail "--bucket, --key and --region are required"
[[ "$sha256" =~ ^[0-9a-f]{64}$ ]] || fail "--sha256 must be 64 lower-case hex digits, got '$sha256'"

# Logins wait until the work is restored, as they do on later boots through the unit's
# Before=systemd-user-sessions.service: on this first boot the agent starts only now, after that
# service already opened logins. /run is a tmpfs, so a reboot never leaves this file behind.
echo "SpotDevBox is installing its agent and restoring the work; try again in a few minutes." > "$nologin"
trap 'rm -f "$nologin"' EXIT

machine="$(uname -m)"
case "$arch/$machine" in
    x64/x86_64 | arm64/aarch64) ;;
    *) fail "the user data pins the agent for $arch but this instance is $machine" ;;
esac

# Debian 12 (apt) and Amazon Linux 2023 (dnf) name the packages differently. Amazon Linux ships the
# AWS CLI and curl (curl-minimal, which a 'curl' package would conflict with).
packages=()
if command -v apt-get > /dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    packages=(ca-certificates curl tar)
    command -v aws > /dev/null || packages+=(awscli)
    [[ "$docker" == "yes" ]] && packages+=(docker.io)
    log "installing ${packages[*]}"
    apt-get update -q || fail "apt-get update"
    apt-get install -y -q --no-install-recommends "${packages[@]}" || fail "apt-get install ${packages[*]}"
elif command -v dnf > /dev/null; then
    packages=(ca-certificates tar)
    command -v aws > /dev/null || packages+=(awscli-2)
    [[ "$docker" == "yes" ]] && packages+=(docker)
    log "installing ${packages[*]}"
    dnf install -y -q "${packages[@]}" || fail "dnf install ${packages[*]}"
else
    fail "neither apt-get nor dnf found: SpotDevBox supports Debian 12 and Amazon Linux 2023"
fi

# The instance role reads the agent from the bucket: nothing in the user data grants access, so the
# user data carries no secret, not even a short-lived one.
work="$(mktemp -d)"
trap 'rm -f "$nologin"; rm -rf "$work"' EXIT
archive="$work/spotdevbox.tar.gz"
object="s3://$bucket/$key"
for attempt in 1 2 3 4 5; do
    # The instance profile's credentials can take a few seconds to appear after boot.
    if aws s3 cp --only-show-errors --region "$region" "$object" "$archive"; then
        break
    fi
    [[ $attempt -lt 5 ]] || fail "could not download $object with the instance role"
    sleep $((attempt * 5))
done

actual="$(sha256sum "$archive" | cut -d' ' -f1)"
if [[ "$actual" != "$sha256" ]]; then
    fail "$object has SHA-256 $actual but the user data pins $sha256: not installing it"
fi
log "downloaded $object (SHA-256 $actual, as pinned)"

install -d -m 0755 "$opt"
tar -xzf "$archive" -C "$opt" --no-same-owner || fail "could not unpack $object"
[[ -x "$opt/spotdevbox" ]] || fail "$object has no executable 'spotdevbox' at its top level"

if [[ "$docker" == "yes" ]]; then
    systemctl enable --now docker.service || fail "could not start Docker"
    if [[ -n "$user" ]]; then
        usermod -aG docker "$user" || fail "could not add $user to the docker group"
    fi
    log "Docker is running"
fi

# The agent's unit makes /run/spotdevbox/lease root:spotdevbox 2770: the developer may set leases.
if [[ -n "$user" ]]; then
    getent group spotdevbox > /dev/null || groupadd --system spotdevbox || fail "could not create the spotdevbox group"
    usermod -aG spotdevbox "$user" || fail "could not add $user to the spotdevbox group"
    log "$user may set leases (group spotdevbox)"
fi

# Blocks until the agent reports ready (Type=notify): the host keys and the work are restored.
systemctl daemon-reload
log "starting the agent; it restores the work before it reports ready"
systemctl enable --now spotdevbox-agent.service || fail "the agent did not start: journalctl -u spotdevbox-agent"

# The developer logs in with their own keys, kept in their home and restored with it. On the box's
# very first session there are none yet: give them the launch's EC2 key pair, as cloud-init gave it
# to the image's default user (IMDSv2; nothing when the launch named no key pair).
if [[ -n "$user" ]]; then
    home="$(getent passwd "$user" | cut -d: -f6)"
    if [[ -n "$home" && ! -e "$home/.ssh/authorized_keys" ]]; then
        token="$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token || true)"
        keys="$(curl -sf -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/public-keys/0/openssh-key || true)"
        if [[ -n "$keys" ]]; then
            install -d -m 0700 -o "$user" -g "$(id -gn "$user")" "$home/.ssh"
            printf '%s\n' "$keys" > "$home/.ssh/authorized_keys"
            chown "$user:$(id -gn "$user")" "$home/.ssh/authorized_keys"
            chmod 0600 "$home/.ssh/authorized_keys"
            log "no authorized_keys in $user's restored home: gave $user the launch's key pair"
        fi
    fi
fi

log "the agent is running and the work is restored"
