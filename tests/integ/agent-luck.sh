#!/bin/sh
# The agent against late, absent and trickling sources (see agent-luck.py).
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/lib.sh"
need_root
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
exec timeout 120 /usr/bin/python3 "${top_srcdir:-.}/tests/integ/agent-luck.py" "$AGENT"
