#!/bin/sh
# What `make demo` runs inside the VM: the device, then OCR of a real
# scanned page with the 4-bit models on /dev/nuq0, then the device's
# counters.
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
if [ -d /models ]; then
	echo "== nuq run: OCR of a scanned page (opencv-doc imageTextN.png), fp32 vs 4-bit on /dev/nuq0"
	nuq run /usr/share/doc/opencv-doc/examples/data/imageTextN.png --models /models \
		--nuq /models
	echo
fi
echo "== nuqctl stats (sysfs):"
nuqctl stats
