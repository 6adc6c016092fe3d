#!/bin/sh
# What `make demo` runs inside the VM.
set -e
echo "== nuq.ko loaded:"
grep '^nuq ' /proc/modules
echo
echo "== devices:"
ls -l /dev/nuq*
echo
for d in /dev/nuq*; do
	echo "== nuqctl info $d (NUQ_IOCTL_GET_INFO):"
	nuqctl info "$d"
	echo
done
echo "== nuqctl stats (sysfs):"
nuqctl stats
