#!/bin/sh
# Runs a packaging validator (desktop-file-validate, appstreamcli) for CTest. A missing tool
# skips the check (exit 77, CTest's SKIP_RETURN_CODE) with a message, or fails it when
# TICKETLAB_REQUIRE_DATA is set (CI), so CI never passes without running it.
tool="$1"
shift
if ! command -v "$tool" >/dev/null 2>&1; then
  echo "$tool not found (apt-get install desktop-file-utils appstream)"
  case "${TICKETLAB_REQUIRE_DATA:-}" in ''|0) exit 77 ;; *) echo "TICKETLAB_REQUIRE_DATA is set: failing"; exit 1 ;; esac
fi
exec "$tool" "$@"
