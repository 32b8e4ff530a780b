# /etc/profile.d/spotdevbox.sh — tells a login shell when the agent is still restoring the work, and
# when a spot interruption is pending (the agent writes /run/spotdevbox/interruption at the notice), and
# when it refused to restore a rolled-back repository (/run/spotdevbox/restore-refused).
if [ -e /run/spotdevbox/restoring ]; then
    printf '\n*** %s\n' "$(cat /run/spotdevbox/restoring 2>/dev/null)"
    printf '*** Files may still be missing; watch it with: journalctl -fu spotdevbox-agent\n\n'
fi
if [ -e /run/spotdevbox/interruption ]; then
    printf '\n*** %s\n\n' "$(cat /run/spotdevbox/interruption 2>/dev/null)"
fi
if [ -e /run/spotdevbox/restore-refused ]; then
    printf '\n*** %s\n\n' "$(cat /run/spotdevbox/restore-refused 2>/dev/null)"
fi
