#!/usr/bin/env bash
# CTest: every C++ file of the tree is formatted as .clang-format says (clang-format
# --dry-run --Werror). Skips (77) without clang-format, or fails under TICKETLAB_REQUIRE_DATA.
# Fix with: clang-format -i $(git ls-files '*.cpp' '*.h')
set -euo pipefail
src=$1
cd "$src"
if ! command -v clang-format >/dev/null; then
  echo "clang-format not found (apt-get install clang-format)"
  case "${TICKETLAB_REQUIRE_DATA:-}" in '' | 0) exit 77 ;; *) exit 1 ;; esac
fi
if command -v git >/dev/null && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cpp' '*.h')
else
  mapfile -t files < <(find core ui app data tests bench -name '*.cpp' -o -name '*.h')
fi
clang-format --dry-run --Werror "${files[@]}"
echo "${#files[@]} files formatted"
