# shellcheck shell=bash
# Sourced by every script of this repository that runs under `set -e`: a failing
# command ends the script with one line naming the script, the line and the
# command, never a silent exit. errtrace carries the trap into functions and
# subshells, so a failure inside $(...) is named where it happened.
set -o errtrace
vaultops_err_trap() {
  local status=$1 line=$2 command=$3 script=$4
  # A function handing on a status it already got is not a new failure.
  case $command in return*) return 0 ;; esac
  echo "${script##*/}: line $line: '$command' failed with exit status $status" >&2
}
trap 'vaultops_err_trap "$?" "$LINENO" "$BASH_COMMAND" "${BASH_SOURCE[0]:-$0}"' ERR
