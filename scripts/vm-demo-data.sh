#!/bin/sh
# Build the tree `make demo` overlays on the VM's root: the PaddleOCR
# models with their 4-bit .nuq weights and activation calibration (made
# here, on the host, by nuq quantize --ocr), the page and the fp32 model's reading of it, and the
# fonts and text a calibration set is rendered from.  Everything comes
# from packages make deps installed.
#
#   vm-demo-data.sh OUT_DIR NUQ_BINARY MODELS_DIR
set -eu
out=$1 nuq=$2 models=$3
# The page's first paragraph: the software backend under TCG does about
# 0.07 GMAC/s, and the whole page (NUQ_DEMO_REGION=0,0,556,257) takes about
# five minutes more.
NUQ_DEMO_REGION=${NUQ_DEMO_REGION:-0,0,556,94}

rm -rf "$out"
mkdir -p "$out/models" "$out/usr/share/common-licenses" \
	"$out/usr/share/doc/opencv-doc/examples/data"
for f in ch_PP-OCRv4_det_infer ch_ppocr_mobile_v2.0_cls_infer ch_PP-OCRv4_rec_infer; do
	cp "$models/$f.onnx" "$out/models/"
done
# The default: 4-bit knq, layout and width chosen per layer, weights rounded
# and activations calibrated on rendered text (nuq quantize --help) - here,
# since under TCG it would take many minutes; so is the fp32 reading.
"$nuq" quantize --ocr --models "$models" -o "$out/models" -q >/dev/null
cp "$models/ppocr_keys_v1.txt" "$out/models/"
echo "$NUQ_DEMO_REGION" >"$out/models/demo-region"
"$nuq" ocr /usr/share/doc/opencv-doc/examples/data/imageTextN.png --models "$models" \
	--region "$NUQ_DEMO_REGION" --fp32 --text >"$out/models/imageTextN.fp32.txt"
cp /usr/share/doc/opencv-doc/examples/data/imageTextN.png \
	"$out/usr/share/doc/opencv-doc/examples/data/"
cp /usr/share/common-licenses/GPL-3 "$out/usr/share/common-licenses/"
for f in dejavu/DejaVuSans.ttf dejavu/DejaVuSerif.ttf dejavu/DejaVuSans-Bold.ttf \
	liberation2/LiberationSans-Regular.ttf liberation2/LiberationSerif-Regular.ttf \
	liberation2/LiberationMono-Regular.ttf freefont/FreeSans.ttf freefont/FreeSerif.ttf; do
	mkdir -p "$out/usr/share/fonts/truetype/${f%/*}"
	cp "/usr/share/fonts/truetype/$f" "$out/usr/share/fonts/truetype/$f"
done
