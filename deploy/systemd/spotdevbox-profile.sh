# /etc/profile.d/spotdevbox.sh — tells a login shell when the agent is still restoring the work.
if [ -e /run/spotdevbox/restoring ]; then
    printf '\n*** %s' "$(cat /run/spotdevbox/restoring 2>/dev/null)"
    printf '*** Files may still be missing; watch it with: journalctl -fu spotdevbox-agent\n\n'
fi
