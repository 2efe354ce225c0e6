// moments.js - what the clip page's moments (pages_moments.c) add when
// JavaScript runs: a moment's link seeks the video in place instead of
// loading the page at ?t=, the moment playing is marked as current, the
// moments show as marks on the seek bar (player.js draws it), and the
// moment forms get "Now" buttons that take the video's current time.
// Everything here works without it.
'use strict';
(function () {
  var video = document.getElementById('player');
  if (!video) return;
  var links = Array.prototype.slice.call(document.querySelectorAll('a.moment-seek'));

  function fmt(s) {
    s = Math.max(0, s);
    var whole = Math.floor(s + 1e-6), tenth = Math.round((s - whole) * 10);
    if (tenth === 10) { whole++; tenth = 0; }
    var h = Math.floor(whole / 3600), m = Math.floor(whole / 60) % 60, r = whole % 60;
    var out = (h ? h + ':' + String(m).padStart(2, '0') : String(m)) + ':' + String(r).padStart(2, '0');
    return tenth ? out + '.' + tenth : out;
  }
  function duration() {
    return isFinite(video.duration) && video.duration > 0 ? video.duration : 0;
  }

  // A moment's link: seek there and play; the focus stays on the link, so
  // that the next moment is one Tab away.
  links.forEach(function (a) {
    a.addEventListener('click', function (ev) {
      var t = parseFloat(a.dataset.t);
      if (!isFinite(t) || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
      ev.preventDefault();
      video.currentTime = t;
      video.play().catch(function () {});
      mark();
    });
  });

  // The moment(s) the video is in: aria-current on their links.
  function mark() {
    var t = video.currentTime;
    links.forEach(function (a) {
      var s = parseFloat(a.dataset.t), e = parseFloat(a.dataset.end);
      if (t >= s && t < e) a.setAttribute('aria-current', 'true');
      else a.removeAttribute('aria-current');
    });
  }
  video.addEventListener('timeupdate', mark);
  video.addEventListener('seeked', mark);

  // Exact places on the bar (the classes place them to the whole percent),
  // and a mark on the seek bar at each moment's start.
  var placed = false;
  function place() {
    var d = duration();
    if (!d || placed) return;
    placed = true;
    var bar = document.querySelector('.chapter-bar');
    if (bar) {
      bar.querySelectorAll('li.chapter').forEach(function (li) {
        var a = li.querySelector('a.moment-seek');
        var s = Math.min(parseFloat(a.dataset.t), d), e = Math.min(parseFloat(a.dataset.end), d);
        if (!isFinite(s) || !isFinite(e)) return;
        li.style.left = (100 * s / d) + '%';
        li.style.width = Math.max(0.5, 100 * (e - s) / d) + '%';
      });
    }
    var seek = document.querySelector('#player-box .seek');
    if (!seek) return;
    var starts = {};
    links.forEach(function (a) { starts[a.dataset.t] = true; });
    Object.keys(starts).forEach(function (k) {
      var s = parseFloat(k);
      if (!isFinite(s) || s > d) return;
      var tick = document.createElement('span');
      tick.className = 'seek-mark';
      tick.style.left = (100 * s / d) + '%';
      seek.appendChild(tick);
    });
  }
  video.addEventListener('loadedmetadata', place);
  if (video.readyState >= 1) place();

  // "Now" beside each time field of the moment forms.
  document.querySelectorAll('.moment-form input[data-now]').forEach(function (input) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'now';
    b.textContent = 'Now';
    var label = document.querySelector('label[for="' + input.id + '"]');
    var what = label ? label.firstChild.textContent.trim().toLowerCase() : 'time';
    b.setAttribute('aria-label', 'Now: set the ' + what + ' to the video\'s current time');
    b.addEventListener('click', function () { input.value = fmt(video.currentTime); });
    input.insertAdjacentElement('afterend', b);
  });
})();
