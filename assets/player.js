// player.js - what the clip page adds when JavaScript runs: a seek bar with
// storyboard previews on hover, notes stamped with the current time, and
// note times that jump the video there.  The page works without it.
'use strict';
(function () {
  var video = document.getElementById('player');
  if (!video) return;

  function fmt(s) {
    s = Math.max(0, Math.round(s));
    var m = Math.floor(s / 60), r = s % 60;
    if (m >= 60) return Math.floor(m / 60) + ':' + String(m % 60).padStart(2, '0') + ':' + String(r).padStart(2, '0');
    return m + ':' + String(r).padStart(2, '0');
  }

  // WebVTT cue times "hh:mm:ss.mmm" or "mm:ss.mmm" in seconds.
  function vttTime(t) {
    var p = t.trim().split(':').map(parseFloat), s = 0;
    for (var i = 0; i < p.length; i++) s = s * 60 + p[i];
    return s;
  }

  // Storyboard cues: {start, end, url, x, y, w, h}.
  function parseStoryboard(text, base) {
    var cues = [];
    text.replace(/\r/g, '').split('\n\n').forEach(function (block) {
      var lines = block.split('\n').filter(Boolean);
      for (var i = 0; i < lines.length - 1; i++) {
        var m = lines[i].match(/^([\d:.]+)\s+-->\s+([\d:.]+)/);
        if (!m) continue;
        var target = lines[i + 1], hash = target.indexOf('#xywh=');
        if (hash < 0) continue;
        var xywh = target.slice(hash + 6).split(',').map(Number);
        cues.push({ start: vttTime(m[1]), end: vttTime(m[2]),
                    url: new URL(target.slice(0, hash), base).href,
                    x: xywh[0], y: xywh[1], w: xywh[2], h: xywh[3] });
      }
    });
    return cues;
  }

  // The seek bar under the video, with the preview tile above it.
  var box = document.getElementById('player-box');
  var seek = document.createElement('div');
  seek.className = 'seek';
  seek.setAttribute('role', 'slider');
  seek.setAttribute('tabindex', '0');
  // issue 15: a slider's name, range and position from the start (before
  // the video's length is known), and what its preview shows
  seek.setAttribute('aria-label', 'Seek in the video');
  seek.setAttribute('aria-valuemin', '0');
  seek.setAttribute('aria-valuemax', '0');
  seek.setAttribute('aria-valuenow', '0');
  seek.setAttribute('aria-valuetext', '0:00');
  seek.setAttribute('aria-describedby', 'seek-hint');
  var hint = document.createElement('span');
  hint.id = 'seek-hint';
  hint.className = 'vh';
  hint.textContent = 'Arrow keys move 5 seconds, Page Up and Page Down 30, Home and End ' +
    'to the start and the end; a picture of that point shows above the bar.';
  var fill = document.createElement('div');
  fill.className = 'seek-fill';
  seek.appendChild(fill);
  var scrub = document.createElement('div');
  scrub.className = 'scrub';
  scrub.hidden = true;
  // issue 15: the tile repeats, as a picture, the time the slider says
  scrub.setAttribute('aria-hidden', 'true');
  var scrubTime = document.createElement('span');
  scrubTime.className = 'scrub-time';
  scrub.appendChild(scrubTime);
  box.appendChild(scrub);
  box.appendChild(seek);
  box.appendChild(hint);

  var cues = [];
  var sb = video.dataset.storyboard;
  if (sb) {
    fetch(sb, { credentials: 'same-origin' }).then(function (r) {
      return r.ok ? r.text() : '';
    }).then(function (t) {
      cues = parseStoryboard(t, new URL(sb, location.href));
    }).catch(function () {});
  }

  function duration() {
    return isFinite(video.duration) && video.duration > 0 ? video.duration : 0;
  }
  function update() {
    var d = duration();
    fill.style.width = d ? (100 * video.currentTime / d) + '%' : '0';
    seek.setAttribute('aria-valuemax', String(Math.round(d)));
    seek.setAttribute('aria-valuenow', String(Math.round(video.currentTime)));
    seek.setAttribute('aria-valuetext', fmt(video.currentTime) + ' of ' + fmt(d));
  }
  video.addEventListener('timeupdate', update);
  video.addEventListener('loadedmetadata', update);
  update();  // issue 15: the length may be known before this script runs

  // Show the tile for time t, centred over x (pixels from the box's left).
  function preview(t, x) {
    var cue = null;
    for (var i = 0; i < cues.length; i++) {
      if (t >= cues[i].start && t < cues[i].end) { cue = cues[i]; break; }
    }
    if (!cue && cues.length) cue = cues[cues.length - 1];
    scrubTime.textContent = fmt(t);
    if (cue) {
      scrub.style.width = cue.w + 'px';
      scrub.style.height = cue.h + 'px';
      scrub.style.backgroundImage = 'url("' + cue.url + '")';
      scrub.style.backgroundPosition = (-cue.x) + 'px ' + (-cue.y) + 'px';
    } else {
      scrub.style.width = '4rem';
      scrub.style.height = '1.4rem';
    }
    var w = scrub.offsetWidth || cue && cue.w || 64;
    var left = Math.min(Math.max(0, x - w / 2), box.clientWidth - w);
    scrub.style.left = left + 'px';
    scrub.style.bottom = (box.clientHeight - seek.offsetTop + 6) + 'px';
    scrub.hidden = false;
  }
  function timeAt(ev, el) {
    var r = el.getBoundingClientRect();
    var f = Math.min(Math.max(0, (ev.clientX - r.left) / r.width), 1);
    return { t: f * duration(), x: ev.clientX - box.getBoundingClientRect().left };
  }
  seek.addEventListener('mousemove', function (ev) {
    var p = timeAt(ev, seek);
    if (duration()) preview(p.t, p.x);
  });
  seek.addEventListener('mouseleave', function () { scrub.hidden = true; });
  seek.addEventListener('click', function (ev) {
    if (duration()) video.currentTime = timeAt(ev, seek).t;
  });
  seek.addEventListener('keydown', function (ev) {
    var d = duration(), step = ev.shiftKey ? 10 : 5, to;
    if (!d) return;
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowUp') to = Math.min(d, video.currentTime + step);
    else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowDown') to = Math.max(0, video.currentTime - step);
    else if (ev.key === 'PageUp') to = Math.min(d, video.currentTime + 30);  /* issue 15 */
    else if (ev.key === 'PageDown') to = Math.max(0, video.currentTime - 30);
    else if (ev.key === 'Home') to = 0;
    else if (ev.key === 'End') to = d;
    else return;
    ev.preventDefault();
    video.currentTime = to;
    update();
    keyPreview(to);
  });
  // issue 15: keyboard users see the storyboard too: the tile of where the
  // slider is, over its place on the bar, while the slider has the focus
  function keyPreview(t) {
    var d = duration();
    if (!d) return;
    var x = seek.offsetLeft + seek.offsetWidth * (t / d);
    preview(t, x);
  }
  seek.addEventListener('focus', function () { keyPreview(video.currentTime); });
  seek.addEventListener('blur', function () { scrub.hidden = true; });
  // issue 15: Escape puts the tile away, from the mouse or the keyboard (WCAG 1.4.13)
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' && !scrub.hidden) scrub.hidden = true;
  });
  // The bottom of the video itself, where the native controls' bar is.
  video.addEventListener('mousemove', function (ev) {
    var r = video.getBoundingClientRect();
    if (ev.clientY > r.bottom - 48 && duration()) {
      var p = timeAt(ev, video);
      preview(p.t, p.x);
    } else {
      scrub.hidden = true;
    }
  });
  video.addEventListener('mouseleave', function () { scrub.hidden = true; });

  // Notes: stamped with the time the video is at when sent.
  var at = document.getElementById('at_s'), atLabel = document.getElementById('note-at');
  function stamp() {
    if (!at) return;
    if (video.currentTime > 0) {
      at.value = video.currentTime.toFixed(1);
      if (atLabel) atLabel.textContent = ' at ' + fmt(video.currentTime);
    } else {
      at.value = '';
      if (atLabel) atLabel.textContent = '';
    }
  }
  video.addEventListener('timeupdate', stamp);
  video.addEventListener('seeked', stamp);
  var form = at && at.form;
  if (form) form.addEventListener('submit', stamp);

  // A view: once about 3 seconds have actually played, tell the server
  // (with the session's CSRF token, which the API asks of cookie sessions).
  var clipId = video.dataset.clip, played = 0, lastT = null, viewSent = false;
  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute('content') : '';
  }
  video.addEventListener('timeupdate', function () {
    if (viewSent || !clipId) return;
    var t = video.currentTime;
    if (lastT !== null && !video.paused && !video.seeking) {
      var d = t - lastT;
      if (d > 0 && d < 1.5) played += d;  // a seek is not playing
    }
    lastT = t;
    if (played >= 3) {
      viewSent = true;
      fetch('/api/v1/clips/' + encodeURIComponent(clipId) + '/views', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'X-CSRF-Token': csrfToken() }
      }).catch(function () { viewSent = false; });
    }
  });
  video.addEventListener('seeking', function () { lastT = null; });

  // A note's time plays the video from there.
  document.querySelectorAll('a.note-time').forEach(function (a) {
    a.addEventListener('click', function (ev) {
      var t = parseFloat(a.dataset.t);
      if (!isFinite(t)) return;
      ev.preventDefault();
      video.currentTime = t;
      video.play().catch(function () {});
      video.focus();
      box.scrollIntoView({ block: 'nearest' });
    });
  });
})();
