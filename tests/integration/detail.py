#!/usr/bin/env python3
"""tests/integration/detail.py - how much fine detail parts of one picture
hold, for tests/integration/blur.sh.

    python3 detail.py [--ss SECONDS] [--crop X,Y,W,H] [--size W,H] FILE SPEC...

Decodes one frame of FILE with the ffmpeg CLI (a video: the first frame at
or after SECONDS; a JPEG: the picture), upright as a player shows it
(ffmpeg turns a rotated video by its display matrix), as 8-bit grey; --crop
first cuts a rectangle of it in pixels (a storyboard tile of the sprite),
--size scales it to W x H (an original to the size of a picture made from
it, so that the same pattern is measured at the same scale).
Then for each SPEC prints the mean absolute difference between neighbouring
pixels (right and below) of luma, one number a SPEC, on one line after the
picture's width and height:

    in:X,Y,W,H   inside the rectangle, less a margin at its edges
    out:X,Y,W,H  everywhere outside the rectangle grown by the margin

X, Y, W, H are fractions of the picture (after the crop), so the same SPEC
names the same part of an original and of a smaller rendition of it.  The
margin (3 % of the picture's shorter side, 3 px at least) keeps out the
edge between a blurred region and the sharp picture around it, which the
encoders smear over a few pixels either way.

A sharp 8 px checkerboard (16/235) measures about 30; a region blurred beyond
recognition under 1.  Exit 2 when ffmpeg cannot give the picture.
"""
import subprocess
import sys


def frame(path, ss, crop, size):
    vf = "format=gray"
    if size:
        vf = f"scale={size[0]}:{size[1]},{vf}"
    if crop:
        x, y, w, h = crop
        vf = f"crop={w}:{h}:{x}:{y},{vf}"
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin"]
    if ss is not None:
        cmd += ["-ss", ss]
    cmd += ["-i", path, "-frames:v", "1", "-vf", vf, "-f", "image2pipe", "-c:v", "pgm", "-"]
    got = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    data = got.stdout
    # P5 <w> <h> <max> and one whitespace byte, then w * h bytes
    fields, pos = [], 0
    while len(fields) < 4 and pos < len(data):
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    if got.returncode != 0 or len(fields) < 4 or fields[0] != b"P5" or fields[3] != b"255":
        sys.exit(f"detail.py: no picture from {path}: {got.stderr.decode(errors='replace')[-300:]}")
    w, h = int(fields[1]), int(fields[2])
    pix = data[pos + 1:pos + 1 + w * h]
    if len(pix) != w * h:
        sys.exit(f"detail.py: a short picture from {path}")
    return w, h, pix


def rect(spec, w, h, grow):
    x, y, rw, rh = (float(v) for v in spec.split(","))
    return (int(x * w) - grow, int(y * h) - grow, int((x + rw) * w + 0.999) + grow,
            int((y + rh) * h + 0.999) + grow)


def inside(w, h, pix, r):
    """Mean |difference| of neighbours both inside r."""
    x0, y0, x1, y1 = max(r[0], 0), max(r[1], 0), min(r[2], w), min(r[3], h)
    total = n = 0
    for y in range(y0, y1):
        row = pix[y * w + x0:y * w + x1]
        total += sum(abs(a - b) for a, b in zip(row, row[1:]))
        n += len(row) - 1
        if y + 1 < y1:
            below = pix[(y + 1) * w + x0:(y + 1) * w + x1]
            total += sum(abs(a - b) for a, b in zip(row, below))
            n += len(row)
    return total / n if n > 0 else float("nan")


def outside(w, h, pix, r):
    """Mean |difference| of neighbours both outside r."""
    x0, y0, x1, y1 = max(r[0], 0), max(r[1], 0), min(r[2], w), min(r[3], h)
    total = n = 0

    def runs(y):
        # the parts of row y outside r, as [start, end) spans
        if y0 <= y < y1:
            return [(0, x0), (x1, w)]
        return [(0, w)]

    for y in range(h):
        for a, b in runs(y):
            if b - a < 1:
                continue
            row = pix[y * w + a:y * w + b]
            total += sum(abs(p - q) for p, q in zip(row, row[1:]))
            n += len(row) - 1
            if y + 1 < h:
                for c, d in runs(y + 1):
                    lo, hi = max(a, c), min(b, d)
                    if hi > lo:
                        top = pix[y * w + lo:y * w + hi]
                        below = pix[(y + 1) * w + lo:(y + 1) * w + hi]
                        total += sum(abs(p - q) for p, q in zip(top, below))
                        n += hi - lo
    return total / n if n > 0 else float("nan")


def main(argv):
    ss = crop = size = None
    while argv and argv[0].startswith("--"):
        if argv[0] == "--ss" and len(argv) > 1:
            ss = argv[1]
        elif argv[0] == "--crop" and len(argv) > 1:
            crop = [int(v) for v in argv[1].split(",")]
        elif argv[0] == "--size" and len(argv) > 1:
            size = [int(v) for v in argv[1].split(",")]
        else:
            sys.exit(__doc__)
        argv = argv[2:]
    if len(argv) < 2:
        sys.exit(__doc__)
    w, h, pix = frame(argv[0], ss, crop, size)
    margin = max(3, round(0.03 * min(w, h)))
    out = [str(w), str(h)]
    for spec in argv[1:]:
        kind, _, fr = spec.partition(":")
        if kind == "in":
            out.append(f"{inside(w, h, pix, rect(fr, w, h, -margin)):.2f}")
        elif kind == "out":
            out.append(f"{outside(w, h, pix, rect(fr, w, h, margin)):.2f}")
        else:
            sys.exit(f"detail.py: '{spec}' is neither in:X,Y,W,H nor out:X,Y,W,H")
    print(" ".join(out))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            sys.exit(2)
        raise
