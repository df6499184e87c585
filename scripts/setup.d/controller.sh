#!/bin/sh
# minna-controller: the PAM service file and the port lock directory.
set -eu
if [ -d /etc/pam.d ] && ! cmp -s daemons/controller/pam/minna /etc/pam.d/minna; then
  install -m 0644 daemons/controller/pam/minna /etc/pam.d/minna
fi
install -d -m 1777 /run/minna/ports 2>/dev/null || true
