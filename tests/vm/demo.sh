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
	echo "== nuq run: OCR of a scanned page (opencv-doc imageTextN.png) with 4-bit weights on"
	echo "   /dev/nuq0, next to the fp32 models' reading (computed on the host: TCG is slow)"
	nuq run /usr/share/doc/opencv-doc/examples/data/imageTextN.png --models /models \
		--nuq /models --fp32-text /models/imageTextN.fp32.txt
	echo
fi
echo "== nuqctl stats (sysfs):"
nuqctl stats
