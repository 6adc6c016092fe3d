#!/bin/sh
# What `make demo` runs inside the VM: the devices, then OCR of a real
# scanned page with the 4-bit models on the default device (the NPU when the
# emulator is attached; NUQ_DEVICE=/dev/nuq0 picks the software backend),
# then that device's counters.
set -e
dev=$(nuqctl default)
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
	region=$(cat /models/demo-region)
	echo "== nuq ocr: OCR of a scanned page (opencv-doc imageTextN.png, region $region)"
	echo "   with 4-bit weights on $dev, next to the fp32 models' reading (computed"
	echo "   on the host, like the calibration: under TCG they would take minutes)"
	nuq ocr /usr/share/doc/opencv-doc/examples/data/imageTextN.png --models /models \
		--nuq /models --fp32-text /models/imageTextN.fp32.txt --region "$region"
	echo
fi
echo "== nuqctl stats $dev (sysfs):"
nuqctl stats
