// The dashboard's script (plain browser JavaScript, served as text): polls
// the API every 2 s and updates the tables in place, row by row, so the page
// does not flicker and a selection or the scroll position survives a poll.
//
// Live requests/s and error rate come from GET ../api/traffic, cumulative
// per-service counts (kept whether or not Prometheus metrics are on) turned
// into rates between two polls; "—" until two polls were seen, or when the
// counts cannot be read.
export const DASHBOARD_JS = String.raw`(function () {
  'use strict';
  var POLL_MS = 2000;
  var API = '../api/';
  var filterText = '';
  var lastTraffic = null;
  var rates = {};
  var trafficAvailable = false;
  var latest = null;

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function badge(status) {
    return el('span', 'badge s-' + status, status);
  }

  function getJSON(path) {
    return fetch(API + path, { cache: 'no-store', headers: { accept: 'application/json' } }).then(function (r) {
      if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
      return r.json();
    });
  }

  // Every page of a list, following X-Next-Page (1 means "no more").
  function getAll(path) {
    var out = [];
    function page(n) {
      return fetch(API + path + '?per_page=500&page=' + n, { cache: 'no-store' }).then(function (r) {
        if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
        var next = Number(r.headers.get('X-Next-Page') || '1');
        return r.json().then(function (items) {
          out = out.concat(items);
          return next > n ? page(next) : out;
        });
      });
    }
    return page(1);
  }

  function ago(iso) {
    if (!iso) return 'never';
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    return new Date(iso).toLocaleString();
  }

  function qualify(name, provider) {
    return name.indexOf('@') >= 0 ? name : name + '@' + provider;
  }

  // Keyed, in-place table update: a row is rebuilt only when its content changed.
  function syncRows(table, items, render) {
    var tbody = table.tBodies[0];
    var existing = {};
    Array.prototype.forEach.call(tbody.rows, function (tr) { existing[tr.dataset.name] = tr; });
    var seen = {};
    items.forEach(function (item, i) {
      var key = item.name;
      seen[key] = true;
      var out = render(item);
      var sig = JSON.stringify(out.sig);
      var tr = existing[key];
      if (!tr) {
        tr = document.createElement('tr');
        tr.dataset.name = key;
      }
      if (tr.dataset.sig !== sig) {
        tr.dataset.sig = sig;
        tr.className = out.rowClass || '';
        while (tr.firstChild) tr.removeChild(tr.firstChild);
        out.cells.forEach(function (td) { tr.appendChild(td); });
      }
      if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] || null);
    });
    Object.keys(existing).forEach(function (k) { if (!seen[k]) tbody.removeChild(existing[k]); });
  }

  function td(cls, content) {
    var cell = el('td', cls);
    (Array.isArray(content) ? content : [content]).forEach(function (c) {
      if (c === undefined || c === null) return;
      cell.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    });
    return cell;
  }

  function errorList(errors, warn) {
    if (!errors || errors.length === 0) return null;
    var ul = el('ul', warn ? 'errors warn' : 'errors');
    errors.forEach(function (m) { ul.appendChild(el('li', null, m)); });
    return ul;
  }

  function chips(list) {
    var d = el('div', 'chips');
    (list || []).forEach(function (x) { d.appendChild(el('span', 'chip', x)); });
    return d;
  }

  function matches(item, extra) {
    if (!filterText) return true;
    var hay = [item.name, item.rule, item.service].concat(extra || []).join(' ').toLowerCase();
    return hay.indexOf(filterText) >= 0;
  }

  function renderCard(id, section, extraText) {
    var card = $(id);
    card.querySelector('.card-total').textContent = section ? String(section.total) : '–';
    var detail = card.querySelector('.card-detail');
    while (detail.firstChild) detail.removeChild(detail.firstChild);
    if (!section) return;
    if (section.total === 0) detail.appendChild(el('span', 'muted', 'none'));
    else if (section.errors === 0 && section.warnings === 0) detail.appendChild(el('span', 'ok', extraText || 'all enabled'));
    if (section.warnings > 0) detail.appendChild(el('span', 'warn', section.warnings + (section.warnings === 1 ? ' warning' : ' warnings')));
    if (section.warnings > 0 && section.errors > 0) detail.appendChild(document.createTextNode(' · '));
    if (section.errors > 0) detail.appendChild(el('span', 'bad', section.errors + ' disabled'));
  }

  function renderProvidersCard(providers) {
    var bad = providers.filter(function (p) { return p.state === 'error'; }).length;
    var warn = providers.filter(function (p) { return p.state === 'warning'; }).length;
    renderCard('card-providers', { total: providers.length, errors: 0, warnings: 0 }, 'all healthy');
    var detail = $('card-providers').querySelector('.card-detail');
    if (bad > 0 || warn > 0) {
      while (detail.firstChild) detail.removeChild(detail.firstChild);
      if (warn > 0) detail.appendChild(el('span', 'warn', warn + ' with problems'));
      if (warn > 0 && bad > 0) detail.appendChild(document.createTextNode(' · '));
      if (bad > 0) detail.appendChild(el('span', 'bad', bad + ' unreachable'));
    }
  }

  function renderProviders(providers) {
    syncRows($('providers'), providers, function (p) {
      var source = p.endpoint || p.filename || p.directory || '';
      var when = p.lastSync !== undefined ? p.lastSync : p.lastUpdate;
      var state = p.state === 'ok' ? 'ok' : p.state;
      var label = p.reachable === false ? 'unreachable' : p.state;
      var errs = p.errors && p.errors.length > 0 ? p.errors.length + ' element error(s) in its configuration' : null;
      return {
        sig: [p, Math.floor(Date.now() / 5000)],
        cells: [
          td('name', p.name),
          td(null, el('span', 'badge s-' + state, label)),
          td('code', source || '—'),
          td(null, ago(when)),
          td(null, [p.lastError ? el('span', 'errors', p.lastError) : el('span', 'muted', '—'), errs ? el('div', 'muted', errs) : null]),
        ],
      };
    });
  }

  function renderEntryPoints(eps) {
    syncRows($('entrypoints'), eps, function (ep) {
      var grace = ep.transport && ep.transport.lifeCycle ? ep.transport.lifeCycle.graceTimeOut : '';
      return { sig: ep, cells: [td('name', ep.name), td('code', ep.address), td(null, grace)] };
    });
  }

  function renderRouters(routers) {
    var shown = routers.filter(function (r) { return matches(r); });
    syncRows($('routers'), shown, function (r) {
      var service = r.service ? qualify(r.service, r.provider) : '—';
      return {
        sig: r,
        rowClass: r.status === 'disabled' ? 'row-disabled' : '',
        cells: [
          td(null, badge(r.status)),
          td('name', r.name),
          td(null, [el('div', 'code', r.rule || '—'), errorList(r.error, r.status === 'warning')]),
          td(null, chips(r.using || r.entryPoints)),
          td('code', service),
          td('num', r.priority !== undefined ? r.priority : '—'),
        ],
      };
    });
    $('routers-empty').hidden = shown.length > 0;
    return shown.length;
  }

  function servers(s) {
    var box = el('div');
    if (s.loadBalancer) {
      var st = s.serverStatus || {};
      (s.loadBalancer.servers || []).forEach(function (v) {
        var line = el('div', 'server');
        var up = st[v.url];
        line.appendChild(el('span', 'badge s-' + (up || 'unknown'), up || '—'));
        line.appendChild(el('span', 'code', v.url));
        // The API shows a weight only where one was set, as Traefik does; 1 is what applies.
        line.appendChild(el('span', 'weight', 'weight ' + (v.weight === undefined ? 1 : v.weight)));
        box.appendChild(line);
      });
      if ((s.loadBalancer.servers || []).length === 0) box.appendChild(el('span', 'muted', 'no servers'));
    } else if (s.weighted) {
      (s.weighted.services || []).forEach(function (c) {
        var line = el('div', 'server');
        line.appendChild(el('span', 'chip', 'service'));
        line.appendChild(el('span', 'code', qualify(c.name, s.provider)));
        line.appendChild(el('span', 'weight', 'weight ' + c.weight));
        box.appendChild(line);
      });
    } else {
      box.appendChild(el('span', 'muted', '—'));
    }
    return box;
  }

  function fmtRate(r) {
    if (!r) return '—';
    return r.rps >= 100 ? r.rps.toFixed(0) : r.rps.toFixed(1);
  }
  function fmtErr(r) {
    if (!r || r.errorRate === null) return '—';
    return (r.errorRate * 100).toFixed(r.errorRate < 0.1 ? 2 : 1) + ' %';
  }

  function renderServices(services) {
    var shown = services.filter(function (s) {
      var urls = s.loadBalancer ? (s.loadBalancer.servers || []).map(function (v) { return v.url; }) : [];
      return matches(s, urls);
    });
    syncRows($('services'), shown, function (s) {
      var r = trafficAvailable ? rates[s.name] || null : null;
      return {
        sig: [s, fmtRate(r), fmtErr(r)],
        rowClass: s.status === 'disabled' ? 'row-disabled' : '',
        cells: [
          td(null, badge(s.status)),
          td(null, [el('div', 'name', s.name), el('div', 'sub', s.type || ''), errorList(s.error, s.status === 'warning')]),
          td(null, servers(s)),
          td(null, chips(s.usedBy)),
          td('num rps', fmtRate(r)),
          td('num err', fmtErr(r)),
        ],
      };
    });
    $('services-empty').hidden = shown.length > 0;
    $('traffic-note').hidden = trafficAvailable;
    return shown.length;
  }

  function renderMiddlewares(mws) {
    $('middlewares-section').hidden = mws.length === 0;
    syncRows($('middlewares'), mws, function (m) {
      return {
        sig: m,
        cells: [
          td(null, badge(m.status)),
          td(null, [el('div', 'name', m.name), errorList(m.error, m.status === 'warning')]),
          td('code', m.type || '—'),
          td(null, chips(m.usedBy)),
        ],
      };
    });
  }

  // Cumulative counts from /api/traffic, turned into rates over the time
  // between two reports. Nothing is shown (—) unless it reports available: true.
  function updateRates(report) {
    trafficAvailable = !!(report && report.available);
    if (!trafficAvailable) {
      lastTraffic = null;
      rates = {};
      return;
    }
    var next = {};
    if (lastTraffic && report.at > lastTraffic.at) {
      var dt = (report.at - lastTraffic.at) / 1000;
      Object.keys(report.services).forEach(function (name) {
        var now = report.services[name];
        var before = lastTraffic.services[name];
        if (!before || now.requests < before.requests) return;
        var dr = now.requests - before.requests;
        var de = Math.max(0, now.errors - before.errors);
        next[name] = { rps: dr / dt, errorRate: dr > 0 ? de / dr : null };
      });
    }
    rates = next;
    lastTraffic = report;
  }

  function setConn(ok, text) {
    var c = $('conn');
    c.dataset.state = ok ? 'live' : 'down';
    $('conn-text').textContent = text;
  }

  function render() {
    if (!latest) return;
    var d = latest;
    renderCard('card-routers', d.overview.http.routers);
    renderCard('card-services', d.overview.http.services);
    renderCard('card-middlewares', d.overview.http.middlewares);
    renderProvidersCard(d.providers);
    renderProviders(d.providers);
    renderEntryPoints(d.entrypoints);
    var nr = renderRouters(d.routers);
    var ns = renderServices(d.services);
    renderMiddlewares(d.middlewares);
    $('filter-count').textContent = filterText ? nr + ' router(s), ' + ns + ' service(s) match' : '';
  }

  function poll() {
    Promise.all([
      getJSON('overview'),
      getJSON('providers'),
      getAll('entrypoints'),
      getAll('http/routers'),
      getAll('http/services'),
      getAll('http/middlewares'),
      getJSON('traffic').catch(function () { return { available: false }; }),
    ]).then(function (r) {
      latest = { overview: r[0], providers: r[1], entrypoints: r[2], routers: r[3], services: r[4], middlewares: r[5] };
      updateRates(r[6]);
      render();
      setConn(true, 'live · updated ' + new Date().toLocaleTimeString());
    }).catch(function (err) {
      setConn(false, 'API unreachable (' + (err && err.message ? err.message : err) + '); retrying');
    }).then(function () {
      setTimeout(poll, POLL_MS);
    });
  }

  $('filter').addEventListener('input', function (e) {
    filterText = e.target.value.trim().toLowerCase();
    render();
  });

  getJSON('version').then(function (v) { $('version').textContent = 'v' + v.Version; }).catch(function () {});
  poll();
})();
`;
