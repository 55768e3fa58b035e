// The dashboard's HTML. Everything it loads comes from portero itself
// (dashboard.css, dashboard.js beside it; the API under ../api/): no CDN, no
// web fonts, so it works on a host without Internet access.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>portero</title>
<link rel="stylesheet" href="dashboard.css">
</head>
<body>
<header class="top">
  <div class="brand">portero <span id="version" class="version"></span></div>
  <div class="conn" id="conn" data-state="connecting"><span class="dot"></span><span id="conn-text">connecting…</span></div>
</header>
<main>
  <section class="cards" aria-label="Overview">
    <div class="card" id="card-routers"><div class="card-title">HTTP routers</div><div class="card-total">–</div><div class="card-detail"></div></div>
    <div class="card" id="card-services"><div class="card-title">HTTP services</div><div class="card-total">–</div><div class="card-detail"></div></div>
    <div class="card" id="card-middlewares"><div class="card-title">Middlewares</div><div class="card-total">–</div><div class="card-detail"></div></div>
    <div class="card" id="card-providers"><div class="card-title">Providers</div><div class="card-total">–</div><div class="card-detail"></div></div>
  </section>

  <div class="grid2">
    <section>
      <h2>Providers</h2>
      <table id="providers">
        <thead><tr><th>Provider</th><th>State</th><th>Source</th><th>Last update</th><th>Last error</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <section>
      <h2>Entry points</h2>
      <table id="entrypoints">
        <thead><tr><th>Name</th><th>Address</th><th>Grace</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
  </div>

  <div class="filter-bar">
    <input id="filter" type="search" placeholder="Filter routers and services by name, rule or server" autocomplete="off" spellcheck="false">
    <span id="filter-count" class="muted"></span>
  </div>

  <section>
    <h2>HTTP routers</h2>
    <table id="routers">
      <thead><tr><th class="col-status">Status</th><th>Name</th><th>Rule</th><th>Entry points</th><th>Service</th><th class="num">Priority</th></tr></thead>
      <tbody></tbody>
    </table>
    <p class="empty" id="routers-empty" hidden>No routers.</p>
  </section>

  <section>
    <h2>HTTP services</h2>
    <table id="services">
      <thead><tr><th class="col-status">Status</th><th>Name</th><th>Servers</th><th>Used by</th><th class="num" title="Requests per second, over the last poll">Req/s</th><th class="num" title="Share of 5xx answers, over the last poll">Errors</th></tr></thead>
      <tbody></tbody>
    </table>
    <p class="empty" id="services-empty" hidden>No services.</p>
    <p class="note" id="traffic-note" hidden>Req/s and error rate show “—”: the traffic counts cannot be read right now.</p>
  </section>

  <section id="middlewares-section" hidden>
    <h2>Middlewares</h2>
    <table id="middlewares">
      <thead><tr><th class="col-status">Status</th><th>Name</th><th>Type</th><th>Used by</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<script src="dashboard.js"></script>
</body>
</html>
`;
