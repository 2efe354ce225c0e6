// blur.js - the Blur editor of the clip page (pages_clip_governance.c), loaded
// only for those who may edit the clip: on the paused video, drag rectangles
// over the picture; each fills a row of the form's numeric fields (From and
// To start at the current moment and a few seconds after), which stay the
// way to type, adjust or review a region with the keyboard.  The form works
// without this script.
//
// Positions are fractions of the upright picture as the <video> element
// shows it.  videoWidth and videoHeight are upright (the browser applies the
// rotation), and the picture sits inside the element by its object-fit
// (letterboxed by default): the drawing surface is that picture's box, not
// the element's.
'use strict';
(function () {
  var form = document.getElementById('blur-form');
  if (!form) return;
  var rowsBox = document.getElementById('blur-rows');
  var video = document.getElementById('player');
  var box = document.getElementById('player-box');
  var SPAN = 3;        // seconds a drawn region lasts unless its To is changed
  var MIN_SIDE = 0.01; // the catalogue refuses smaller (a slip, not a region)

  var live = document.createElement('p');
  live.className = 'vh';
  live.setAttribute('role', 'status');
  form.insertBefore(live, rowsBox);
  function say(text) { live.textContent = text; }

  function rows() { return Array.prototype.slice.call(rowsBox.querySelectorAll('fieldset.blur-row')); }
  function input(row, name) { return row.querySelector('input[name="' + name + '"]'); }

  // Seconds typed as the server reads them: "75", "75.5", "1:15", "1:01:15".
  function seconds(s) {
    s = String(s).trim().replace(/,/g, '.');
    if (!/^\d+(\.\d*)?(:\d+(\.\d*)?){0,2}$/.test(s)) return NaN;
    return s.split(':').reduce(function (t, p) { return t * 60 + parseFloat(p); }, 0);
  }
  function percent(s) {
    s = String(s).trim().replace(/,/g, '.').replace(/\s*%$/, '');
    return s === '' ? NaN : Number(s) / 100;
  }
  function fmt(t) {
    t = Math.max(0, t);
    var m = Math.floor(t / 60), r = t - 60 * m;
    return m + ':' + (r < 10 ? '0' : '') + r.toFixed(1);
  }
  // a number for a field: two decimals at most, no trailing zeros
  function num(v) { return String(Math.round(v * 100) / 100); }

  if (!video || !box) {
    var none = document.createElement('p');
    none.className = 'hint';
    none.textContent = 'Drawing needs the video, which is not shown now: type the numbers instead.';
    form.insertBefore(none, rowsBox);
    return;
  }

  var tools = document.createElement('div');
  tools.className = 'blur-tools';
  var toggle = document.createElement('button');
  toggle.type = 'button';
  toggle.id = 'blur-draw';
  toggle.setAttribute('aria-pressed', 'false');
  toggle.setAttribute('aria-describedby', 'blur-draw-help');
  toggle.textContent = 'Draw regions on the video';
  var help = document.createElement('p');
  help.className = 'hint';
  help.id = 'blur-draw-help';
  help.textContent = 'Pauses the video; drag over the picture to mark a region from this moment. ' +
    'Each region fills a row below, where its numbers can be changed. Escape stops drawing.';
  tools.appendChild(toggle);
  tools.appendChild(help);
  form.insertBefore(tools, rowsBox);

  var overlay = document.createElement('div');
  overlay.className = 'blur-overlay';
  overlay.hidden = true;
  overlay.setAttribute('aria-hidden', 'true');
  box.appendChild(overlay);
  var drawing = false;

  // An object-position coordinate ("50%", "10px") as the offset in a free space.
  function offset(v, free) {
    if (!v) return free / 2;
    if (/%$/.test(v)) return free * parseFloat(v) / 100;
    if (v === 'left' || v === 'top') return 0;
    if (v === 'right' || v === 'bottom') return free;
    if (v === 'center') return free / 2;
    return parseFloat(v) || 0;
  }

  // The whole picture's box in viewport pixels, and the part of it the
  // element shows; null before the video's size is known.
  function picture() {
    var vw = video.videoWidth, vh = video.videoHeight;
    if (!vw || !vh) return null;
    var r = video.getBoundingClientRect(), cs = getComputedStyle(video);
    var px = function (p) { return parseFloat(cs[p]) || 0; };
    var left = r.left + px('borderLeftWidth') + px('paddingLeft');
    var top = r.top + px('borderTopWidth') + px('paddingTop');
    var cw = r.width - px('borderLeftWidth') - px('borderRightWidth') - px('paddingLeft') - px('paddingRight');
    var ch = r.height - px('borderTopWidth') - px('borderBottomWidth') - px('paddingTop') - px('paddingBottom');
    var fit = cs.objectFit || 'contain', sx, sy;
    if (fit === 'fill') {
      sx = cw / vw;
      sy = ch / vh;
    } else {
      var contain = Math.min(cw / vw, ch / vh);
      sx = fit === 'cover' ? Math.max(cw / vw, ch / vh) : fit === 'none' ? 1
         : fit === 'scale-down' ? Math.min(1, contain) : contain;
      sy = sx;
    }
    var dw = vw * sx, dh = vh * sy;
    var pos = (cs.objectPosition || '50% 50%').split(/\s+/);
    var pic = { left: left + offset(pos[0], cw - dw), top: top + offset(pos[1], ch - dh),
                width: dw, height: dh };
    // shown: the picture inside the element's content box (object-fit: cover crops)
    var sl = Math.max(pic.left, left), st = Math.max(pic.top, top);
    var sr = Math.min(pic.left + dw, left + cw), sb = Math.min(pic.top + dh, top + ch);
    pic.shown = { left: sl, top: st, width: Math.max(0, sr - sl), height: Math.max(0, sb - st) };
    return pic;
  }

  // The overlay over the shown part of the picture.
  function place() {
    var pic = picture();
    if (!pic) return null;
    var b = box.getBoundingClientRect();
    overlay.style.left = (pic.shown.left - b.left - box.clientLeft) + 'px';
    overlay.style.top = (pic.shown.top - b.top - box.clientTop) + 'px';
    overlay.style.width = pic.shown.width + 'px';
    overlay.style.height = pic.shown.height + 'px';
    return pic;
  }

  // A rectangle of picture fractions as a box on the overlay.
  function rectEl(el, f, pic) {
    var o = overlay.getBoundingClientRect();
    el.style.left = (pic.left + f.x * pic.width - o.left) + 'px';
    el.style.top = (pic.top + f.y * pic.height - o.top) + 'px';
    el.style.width = (f.w * pic.width) + 'px';
    el.style.height = (f.h * pic.height) + 'px';
  }

  // The regions of the rows that cover the current moment, outlined.
  function redraw() {
    if (!drawing) return;
    var pic = place();
    overlay.querySelectorAll('.blur-rect:not(.drawing)').forEach(function (el) { el.remove(); });
    if (!pic) return;
    var t = video.currentTime;
    rows().forEach(function (row, i) {
      var rm = row.querySelector('input[name="remove"]');
      if (rm && rm.checked) return;
      var from = seconds(input(row, 'from_s').value), to = seconds(input(row, 'to_s').value);
      var f = { x: percent(input(row, 'x').value), y: percent(input(row, 'y').value),
                w: percent(input(row, 'w').value), h: percent(input(row, 'h').value) };
      if ([from, to, f.x, f.y, f.w, f.h].some(isNaN) || t < from || t > to) return;
      var el = document.createElement('div');
      el.className = 'blur-rect';
      var label = document.createElement('span');
      label.textContent = String(i + 1);
      el.appendChild(label);
      overlay.appendChild(el);
      rectEl(el, f, pic);
    });
  }

  function setDrawing(on) {
    drawing = on;
    toggle.setAttribute('aria-pressed', on ? 'true' : 'false');
    toggle.textContent = on ? 'Done drawing' : 'Draw regions on the video';
    overlay.hidden = !on;
    if (!on) {
      say('Drawing stopped.');
      return;
    }
    video.pause();
    box.scrollIntoView({ block: 'nearest' });
    redraw();
    say('Drawing: the video is paused at ' + fmt(video.currentTime) +
        '. Drag over the picture to mark a region.');
  }
  toggle.addEventListener('click', function () { setDrawing(!drawing); });
  document.addEventListener('keydown', function (ev) {
    if (drawing && ev.key === 'Escape') {
      cancel();
      setDrawing(false);
      toggle.focus();
    }
  });

  // The empty row at the end becomes region n, and a new empty row follows.
  function renumber(row, n) {
    row.dataset.row = String(n);
    row.querySelectorAll('input[id]').forEach(function (el) {
      var id = 'blur-' + n + '-' + el.name;
      var label = row.querySelector('label[for="' + el.id + '"]');
      el.id = id;
      if (label) label.htmlFor = id;
    });
  }
  function addRegion(f) {
    var all = rows(), row = all[all.length - 1];
    if (!row || !row.classList.contains('blur-new')) return;
    var fresh = row.cloneNode(true);
    fresh.querySelectorAll('input').forEach(function (el) {
      el.value = '';
      el.removeAttribute('aria-invalid');
    });
    var n = all.length;
    renumber(fresh, n + 1);
    var d = isFinite(video.duration) && video.duration > 0 ? video.duration
          : parseFloat(form.dataset.duration) || 0;
    var from = video.currentTime || 0;
    if (d && from > d - 0.1) from = Math.max(0, d - SPAN);
    var to = d ? Math.min(d, from + SPAN) : from + SPAN;
    // percentages of two decimals, the far edges kept inside the picture
    var x = Math.round(f.x * 10000) / 100, y = Math.round(f.y * 10000) / 100;
    var w = Math.min(100, Math.round((f.x + f.w) * 10000) / 100) - x;
    var h = Math.min(100, Math.round((f.y + f.h) * 10000) / 100) - y;
    input(row, 'from_s').value = num(from);
    input(row, 'to_s').value = num(to);
    input(row, 'x').value = num(x);
    input(row, 'y').value = num(y);
    input(row, 'w').value = num(w);
    input(row, 'h').value = num(h);
    row.classList.remove('blur-new');
    row.classList.add('is-new');
    row.querySelector('legend').textContent = 'Region ' + n;
    var check = document.createElement('label');
    check.className = 'check';
    var box_ = document.createElement('input');
    box_.type = 'checkbox';
    box_.name = 'remove';
    box_.value = String(n);
    check.appendChild(box_);
    check.appendChild(document.createTextNode(' Remove region ' + n));
    row.appendChild(check);
    rowsBox.appendChild(fresh);
    say('Region ' + n + ' marked from ' + fmt(from) + ' to ' + fmt(to) +
        '; its numbers are in the form, to change before saving.');
  }

  // Dragging on the overlay.
  var start = null, temp = null, pic0 = null;
  function at(ev) {
    return { x: Math.min(1, Math.max(0, (ev.clientX - pic0.left) / pic0.width)),
             y: Math.min(1, Math.max(0, (ev.clientY - pic0.top) / pic0.height)) };
  }
  function spanned(a, b) {
    return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y),
             w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y) };
  }
  function cancel() {
    start = null;
    if (temp) temp.remove();
    temp = null;
  }
  overlay.addEventListener('pointerdown', function (ev) {
    if (ev.button !== 0) return;
    pic0 = picture();
    if (!pic0) return;
    ev.preventDefault();
    overlay.setPointerCapture(ev.pointerId);
    start = at(ev);
    temp = document.createElement('div');
    temp.className = 'blur-rect drawing';
    overlay.appendChild(temp);
    rectEl(temp, { x: start.x, y: start.y, w: 0, h: 0 }, pic0);
  });
  overlay.addEventListener('pointermove', function (ev) {
    if (start) rectEl(temp, spanned(start, at(ev)), pic0);
  });
  overlay.addEventListener('pointerup', function (ev) {
    if (!start) return;
    var f = spanned(start, at(ev));
    cancel();
    if (f.w >= MIN_SIDE && f.h >= MIN_SIDE) addRegion(f);
    else say('Too small to be a region: drag across what should be blurred.');
    redraw();
  });
  overlay.addEventListener('pointercancel', cancel);

  ['seeked', 'timeupdate', 'loadedmetadata'].forEach(function (e) { video.addEventListener(e, redraw); });
  window.addEventListener('resize', redraw);
  form.addEventListener('input', redraw);
  form.addEventListener('change', redraw);
})();
