// Photos on the phone: shrink to a long side of about 1600 px and keep the original's EXIF (capture time, GPS)
// in the new file, since the server checks a visit's photos by them. The canvas writes a JPEG without EXIF, so
// the original's APP1 segment is carried over, its orientation set to "upright" (the pixels are drawn upright).
const LONG_SIDE = 1600;

export async function sha256(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function shrink(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close?.();
  const small = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
  const exif = file.type === "image/jpeg" ? exifSegment(new Uint8Array(await file.arrayBuffer())) : null;
  if (!exif) return small;
  const body = new Uint8Array(await small.arrayBuffer());
  // SOI, then the original's APP1 (EXIF), then the canvas's JPEG after its own SOI (its APP0 JFIF is kept).
  return new Blob([body.slice(0, 2), exif, body.slice(2)], { type: "image/jpeg" });
}

// The APP1 "Exif" segment of a JPEG, orientation set to 1; null when there is none.
export function exifSegment(bytes) {
  let i = 2;
  while (i + 4 <= bytes.length && bytes[i] === 0xff) {
    const marker = bytes[i + 1], length = (bytes[i + 2] << 8) | bytes[i + 3];
    if (marker === 0xda) break;  // start of scan: no more metadata
    if (marker === 0xe1 && String.fromCharCode(...bytes.slice(i + 4, i + 8)) === "Exif") {
      const segment = bytes.slice(i, i + 2 + length);
      uprightOrientation(segment, 10);
      return segment;
    }
    i += 2 + length;
  }
  return null;
}

function uprightOrientation(seg, tiff) {
  const little = seg[tiff] === 0x49;
  const u16 = (o) => (little ? seg[o] | (seg[o + 1] << 8) : (seg[o] << 8) | seg[o + 1]);
  const u32 = (o) => (little ? (seg[o] | (seg[o + 1] << 8) | (seg[o + 2] << 16)) + seg[o + 3] * 2 ** 24
    : seg[o] * 2 ** 24 + ((seg[o + 1] << 16) | (seg[o + 2] << 8) | seg[o + 3]));
  const ifd = tiff + u32(tiff + 4);
  if (ifd + 2 > seg.length) return;
  for (let n = 0, count = u16(ifd); n < count; n++) {
    const entry = ifd + 2 + n * 12;
    if (entry + 12 > seg.length) return;
    if (u16(entry) === 0x0112) {  // Orientation, a SHORT held in the entry
      seg[entry + 8] = little ? 1 : 0;
      seg[entry + 9] = little ? 0 : 1;
    }
  }
}

export function here() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude, accuracy: p.coords.accuracy }),
      () => resolve(null), { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
}
